import { contract } from '@iii-harness/types';
import { z } from 'zod';
import type { Worker } from './worker.js';

const envelope = z.object({
  hook_id: z.string(),
  topic: z.string(),
  payload: z.unknown(),
  reply_function: z.string(),
  deadline: z.number(),
});

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
  // The subscriber's id is its own (a third-party namespace), so its contract is built here.
  const subscriber = contract({
    id: subscription.function_id,
    description: subscription.description ?? `Subscriber of hook ${subscription.topic}`,
    input: envelope,
    output: z.object({ replied: z.boolean() }),
  });
  worker.function(subscriber, async (hook, { bus }) => {
    if (Date.now() > hook.deadline) return { replied: false };
    const reply = await subscription.handler(hook.payload as P);
    if (reply === undefined) return { replied: false };
    const answer = await bus.invoke(hook.reply_function, {
      hook_id: hook.hook_id,
      reply,
      subscriber: subscription.function_id,
    });
    return { replied: (answer as { accepted?: unknown } | null)?.accepted === true };
  });
  worker.trigger({
    type: 'durable:subscriber',
    function_id: subscription.function_id,
    config: { topic: subscription.topic },
  });
}
