import { defineFunction, uuidv7 } from '@iii-harness/runtime';
import { jsonValue } from '@iii-harness/types';
import { z } from 'zod';
import type { ReplyCollector } from './collector.js';
import type { Config } from './config.js';
import { mergeReplies, mergeRule } from './merge.js';
import { subscribersOf } from './subscribers.js';

/** What a subscriber receives on the durable topic. */
export interface HookEnvelope {
  hook_id: string;
  topic: string;
  payload: unknown;
  /** Call this function with `{hook_id, reply, subscriber?}` to answer. */
  reply_function: 'hook-fanout::reply';
  /** Epoch ms after which a reply is ignored. */
  deadline: number;
}

export const publishCollect = (collector: ReplyCollector, config: Config) =>
  defineFunction({
    id: 'hook-fanout::publish_collect',
    description: 'Publish a hook on a durable topic, collect subscriber replies for a bounded window, and merge them',
    input: z
      .object({
        topic: z.string().min(1),
        payload: jsonValue,
        merge_rule: mergeRule,
        timeout_ms: z.number().int().positive().optional(),
        /** Stop waiting after this many replies (default: one per subscriber found). */
        expected_replies: z.number().int().positive().optional(),
      })
      .strict(),
    output: z.object({
      hook_id: z.string().optional(),
      published: z.boolean(),
      subscribers: z.array(z.string()),
      replies: z.array(z.object({ subscriber: z.string().optional(), reply: z.unknown() })),
      merged: z.unknown(),
      timed_out: z.boolean(),
    }),
    async handler({ topic, payload, merge_rule, timeout_ms, expected_replies }, { bus, logger }) {
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
        reply_function: 'hook-fanout::reply',
        deadline: Date.now() + window,
      };
      await bus.call('iii::durable::publish', { topic, data: envelope });
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
    },
  });
