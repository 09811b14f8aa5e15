import { type Handler, uuidv7 } from '@iii-harness/runtime';
import { contracts, HOOK_REPLY_FUNCTION, type HookEnvelope } from '@iii-harness/types';
import type { Config } from './config.js';
import { mergeReplies } from './merge.js';
import { subscribersOf } from './subscribers.js';
import type { Waiters, WindowStore } from './windows.js';

export interface Deps {
  windows: WindowStore;
  waiters: Waiters;
  config: Config;
}

/**
 * Wait until `expected` distinct replies are in the window or the deadline passes, re-reading
 * the window when woken (a reply landed) or every `poll_ms` (a lost wake-up). Then close it:
 * the replies the close returns are the answer.
 */
async function collect(deps: Deps, hookId: string, expected: number, deadline: number) {
  const { windows, waiters, config } = deps;
  for (;;) {
    if ((await windows.replies(hookId)).length >= expected) break;
    const left = deadline - Date.now();
    if (left <= 0) break;
    await waiters.next(hookId, Math.min(left, config.poll_ms));
  }
  const replies = await windows.close(hookId);
  return { replies, timedOut: replies.length < expected };
}

export const publishCollect = (deps: Deps) =>
  (async ({ topic, payload, merge_rule, timeout_ms, expected_replies }, { bus, logger }) => {
    const { windows, waiters, config } = deps;
    const subscribers = await subscribersOf(bus, topic);
    // A hook nobody listens to costs one catalogue read and nothing else.
    if (subscribers.length === 0)
      return { published: false, subscribers, replies: [], merged: mergeReplies(merge_rule, []), timed_out: false };
    const window = Math.min(timeout_ms ?? config.default_timeout_ms, config.max_timeout_ms);
    const hookId = uuidv7();
    const expected = expected_replies ?? subscribers.length;
    const deadline = Date.now() + window;
    await windows.open({ hook_id: hookId, topic, expected, deadline });
    waiters.start(hookId);
    const envelope: HookEnvelope = { hook_id: hookId, topic, payload, reply_function: HOOK_REPLY_FUNCTION, deadline };
    try {
      await bus.call(contracts.engine.durablePublish, { topic, data: envelope });
      const { replies, timedOut } = await collect(deps, hookId, expected, deadline);
      if (timedOut)
        logger.debug(
          { topic, hook_id: hookId, replies: replies.length, expected },
          'hook window closed before every reply',
        );
      return {
        hook_id: hookId,
        published: true,
        subscribers,
        replies,
        merged: mergeReplies(
          merge_rule,
          replies.map((r) => r.reply),
        ),
        timed_out: timedOut,
      };
    } finally {
      waiters.stop(hookId);
      // Closed (or never published): the record has served. A removal that fails is swept later.
      await windows
        .remove(hookId)
        .catch((error: unknown) =>
          logger.warn({ err: error, hook_id: hookId }, 'could not remove a closed hook window'),
        );
    }
  }) satisfies Handler<typeof contracts.hookFanout.publishCollect>;
