import type { HookMergeRule } from '@iii-harness/types';

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A reply blocks when it says so with `block: true` or `decision: 'block' | 'deny'`. */
export function isBlocking(reply: unknown): boolean {
  if (!isObject(reply)) return false;
  return reply.block === true || reply.decision === 'block' || reply.decision === 'deny';
}

/** The object replies' fields, later replies winning. */
const fieldMerge = (replies: unknown[]): Record<string, unknown> => Object.assign({}, ...replies.filter(isObject));

/**
 * Merge replies (in arrival order):
 * - `first_block_wins`: the first blocking reply — a veto, e.g. before a call. Without one, the
 *   non-blocking replies' fields merged under `block: false`, so a subscriber can let a call run
 *   with rewritten `args` (later replies win when two rewrite the same field);
 * - `field_merge`: the objects' fields merged, later replies overriding earlier ones;
 * - `pipeline_last_wins`: the last reply, e.g. a rewritten result; `null` when nobody replied.
 */
export function mergeReplies(rule: HookMergeRule, replies: unknown[]): unknown {
  switch (rule) {
    case 'first_block_wins': {
      const veto = replies.find(isBlocking);
      if (veto !== undefined) return veto;
      return { ...fieldMerge(replies), block: false };
    }
    case 'field_merge':
      return fieldMerge(replies);
    case 'pipeline_last_wins':
      return replies.length ? replies[replies.length - 1] : null;
  }
}
