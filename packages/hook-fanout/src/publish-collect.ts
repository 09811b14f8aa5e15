import { type Handler, uuidv7 } from '@iii-harness/runtime';
import { contracts, HOOK_REPLY_FUNCTION, type HookEnvelope } from '@iii-harness/types';
import type { ReplyCollector } from './collector.js';
import type { Config } from './config.js';
import { mergeReplies } from './merge.js';
import { subscribersOf } from './subscribers.js';

export const publishCollect = (collector: ReplyCollector, config: Config) =>
  (async ({ topic, payload, merge_rule, timeout_ms, expected_replies }, { bus, logger }) => {
    const subscribers = await subscribersOf(bus, topic);
    // A hook nobody listens to costs one catalogue read and nothing else.
    if (subscribers.length === 0)
      return { published: false, subscribers, replies: [], merged: mergeReplies(merge_rule, []), timed_out: false };
    const window = Math.min(timeout_ms ?? config.default_timeout_ms, config.max_timeout_ms);
    const hookId = uuidv7();
    const { done } = collector.collect(hookId, expected_replies ?? subscribers.length, window);
    const envelope: HookEnvelope = {
      hook_id: hookId,
      topic,
      payload,
      reply_function: HOOK_REPLY_FUNCTION,
      deadline: Date.now() + window,
    };
    try {
      await bus.call(contracts.engine.durablePublish, { topic, data: envelope });
    } catch (error) {
      collector.cancel(hookId);
      throw error;
    }
    const { replies, timedOut } = await done;
    if (timedOut)
      logger.debug(
        { topic, hook_id: hookId, replies: replies.length, expected: expected_replies ?? subscribers.length },
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
  }) satisfies Handler<typeof contracts.hookFanout.publishCollect>;
