import { contract, contracts } from '@iii-harness/types';
import type { Worker } from './worker.js';

export interface HookSubscription<P, R> {
  /** The hook topic, e.g. `agent::before_function_call`. */
  topic: string;
  /** The function id that receives the hook (`<your-namespace>::...`). */
  function_id: string;
  description?: string;
  /** Return the reply; `undefined` sends no reply (the publisher stops waiting at its deadline). */
  handler(payload: P): Promise<R | undefined> | R | undefined;
}

/**
 * Subscribe to a hook published through `hook-fanout::publish_collect`: a durable topic
 * subscriber whose answer goes back with `hook-fanout::reply` before the deadline.
 */
export function subscribeHook<C, P = unknown, R = unknown>(
  worker: Worker<C>,
  subscription: HookSubscription<P, R>,
): void {
  // The subscriber's id is its own (a third-party namespace); the shape is hook-fanout's.
  const family = contracts.hookFanout.subscriber(subscription.function_id);
  const subscriber = contract({
    ...family,
    description: subscription.description ?? `Subscriber of hook ${subscription.topic}`,
  });
  worker.function(subscriber, async (hook, { bus }) => {
    if (Date.now() > hook.deadline) return { replied: false };
    const reply = await subscription.handler(hook.payload as P);
    if (reply === undefined) return { replied: false };
    const { accepted } = await bus.call(contracts.hookFanout.reply, {
      hook_id: hook.hook_id,
      reply,
      subscriber: subscription.function_id,
    });
    return { replied: accepted };
  });
  worker.trigger({
    type: 'durable:subscriber',
    function_id: subscription.function_id,
    config: { topic: subscription.topic },
  });
}
