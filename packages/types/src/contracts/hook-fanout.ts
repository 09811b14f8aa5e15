import { z } from 'zod';
import { contract, contractFamily } from '../contract.js';
import { jsonObject, jsonValue } from '../json.js';

/**
 * The `hook-fanout` worker: publish a hook on a durable topic, collect the subscribers' replies
 * for a bounded window, merge them. Subscribers are third-party functions (`subscriber(id)`).
 */

/**
 * - `first_block_wins`: the first blocking reply; else `{block: false}` with the non-blocking
 *   replies' other fields merged (so a subscriber can rewrite `args`) — a veto before a call;
 * - `field_merge`: the object replies' fields merged, later replies winning;
 * - `pipeline_last_wins`: the last reply (`null` when none) — e.g. a rewritten result.
 */
export const hookMergeRule = z.enum(['first_block_wins', 'field_merge', 'pipeline_last_wins']);
export type HookMergeRule = z.output<typeof hookMergeRule>;

export const HOOK_REPLY_FUNCTION = 'hook-fanout::reply';

/** What a subscriber receives on the durable topic. */
export const hookEnvelope = z.object({
  hook_id: z.string().min(1),
  topic: z.string().min(1),
  payload: z.unknown(),
  /** Call this function with `{hook_id, reply, subscriber?}` to answer. */
  reply_function: z.literal(HOOK_REPLY_FUNCTION),
  /** Epoch ms after which a reply is ignored. */
  deadline: z.number(),
});
export type HookEnvelope = z.output<typeof hookEnvelope>;

const reply = z.object({ subscriber: z.string().optional(), reply: z.unknown() });

/** The payload of `agent::before_function_call`, published by the turn orchestrator. */
export const beforeFunctionCallPayload = z.object({
  session_id: z.string(),
  turn_id: z.string(),
  function_call_id: z.string(),
  function_id: z.string(),
  args: jsonObject,
});

/**
 * A reply to `agent::before_function_call`: block the call (`block: true` or `decision: 'block' |
 * 'deny'`, with a `reason` the model is shown), or let it run, optionally with rewritten `args`.
 */
export const beforeFunctionCallReply = z.looseObject({
  block: z.boolean().optional(),
  decision: z.string().optional(),
  reason: z.string().optional(),
  args: jsonObject.optional(),
});

export const hookFanout = {
  publishCollect: contract({
    id: 'hook-fanout::publish_collect',
    description: 'Publish a hook on a durable topic, collect subscriber replies for a bounded window, and merge them',
    input: z
      .object({
        topic: z.string().min(1),
        payload: jsonValue,
        merge_rule: hookMergeRule,
        timeout_ms: z.number().int().positive().optional(),
        /** Stop waiting after this many replies (default: one per subscriber found). */
        expected_replies: z.number().int().positive().optional(),
      })
      .strict(),
    output: z.object({
      hook_id: z.string().optional(),
      published: z.boolean(),
      subscribers: z.array(z.string()),
      replies: z.array(reply),
      merged: z.unknown(),
      timed_out: z.boolean(),
    }),
  }),
  reply: contract({
    id: HOOK_REPLY_FUNCTION,
    description: 'Answer a published hook; accepted only while its collection window is open',
    input: z.object({ hook_id: z.string().min(1), reply: z.unknown(), subscriber: z.string().optional() }).strict(),
    output: z.object({ accepted: z.boolean() }),
  }),
  wake: contract({
    id: 'hook-fanout::wake',
    description:
      'Internal: a reply to a hook landed on some copy of this worker; wake the window waiting for it here (pub/sub subscriber)',
    // Pub/sub hands the published data over as it is.
    input: z.looseObject({ hook_id: z.string().min(1) }),
    output: z.object({ woke: z.boolean() }),
    metadata: { internal: true },
  }),
  sweep: contract({
    id: 'hook-fanout::sweep',
    description:
      'Internal: remove collection windows left behind (a publisher that died, a reply racing a close); run by a cron trigger, one copy per scheduled run',
    input: z.looseObject({}),
    output: z.object({ removed: z.number().int().nonnegative(), skipped: z.boolean().optional() }),
    metadata: { internal: true },
  }),
  /** A subscriber of a hook topic: the function id is the subscriber's own. */
  subscriber: contractFamily((functionId) => functionId, {
    description: 'Subscriber of a hook topic',
    input: hookEnvelope,
    output: z.object({ replied: z.boolean() }),
  }),
};
