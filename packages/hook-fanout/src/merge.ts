import { z } from 'zod';

export const mergeRule = z.enum(['first_block_wins', 'field_merge', 'pipeline_last_wins']);
export type MergeRule = z.infer<typeof mergeRule>;

/** A reply blocks when it says so with `block: true` or `decision: 'block' | 'deny'`. */
export function isBlocking(reply: unknown): boolean {
  if (reply === null || typeof reply !== 'object') return false;
  const { block, decision } = reply as { block?: unknown; decision?: unknown };
  return block === true || decision === 'block' || decision === 'deny';
}

/**
 * Merge replies (in arrival order):
 * - `first_block_wins`: the first blocking reply, else `{block: false}` — a veto, e.g. before a call;
 * - `field_merge`: the objects' fields merged, later replies overriding earlier ones;
 * - `pipeline_last_wins`: the last reply, e.g. a rewritten result; `null` when nobody replied.
 */
export function mergeReplies(rule: MergeRule, replies: unknown[]): unknown {
  switch (rule) {
    case 'first_block_wins':
      return replies.find(isBlocking) ?? { block: false };
    case 'field_merge':
      return Object.assign({}, ...replies.filter((r) => r !== null && typeof r === 'object' && !Array.isArray(r)));
    case 'pipeline_last_wins':
      return replies.length ? replies[replies.length - 1] : null;
  }
}
