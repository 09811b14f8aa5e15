import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { Deps } from './publish-collect.js';

/**
 * A reply, on whichever copy of this worker it lands: added to the window in state, then the
 * waiting copy is woken — directly when it is this one, else through pub/sub (best effort: the
 * waiting copy also re-reads its window every `poll_ms`).
 */
export const reply = ({ windows, waiters, config }: Deps) =>
  (async ({ hook_id, reply: value, subscriber }, { bus, logger }) => {
    const accepted = await windows.addReply(hook_id, {
      ...(subscriber !== undefined ? { subscriber } : {}),
      reply: value,
    });
    if (accepted && !waiters.wake(hook_id))
      await bus
        .publish(config.wake_topic, { hook_id })
        .catch((error: unknown) =>
          logger.warn({ err: error, hook_id }, 'could not wake the copy waiting for a hook reply'),
        );
    return { accepted };
  }) satisfies Handler<typeof contracts.hookFanout.reply>;

/** The pub/sub side of the wake-up: a reply landed on another copy. */
export const wake = ({ waiters }: Deps) =>
  (({ hook_id }) => ({ woke: waiters.wake(hook_id) })) satisfies Handler<typeof contracts.hookFanout.wake>;
