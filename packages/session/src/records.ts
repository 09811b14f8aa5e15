import { entryId, type SessionEntry, type SessionInfo, sessionEntryBody, sessionInfo } from '@iii-harness/types';
import { z } from 'zod';

/**
 * What this worker keeps in engine state. A record starts as a claim stub (`{claimed: true}`,
 * see claim.ts) and is complete once its fields are written; readers skip stubs.
 */

const nonNegative = z.number().int().nonnegative();

/** One entry: scope `<entries_scope_prefix>:<session_id>`, key = entry id. */
export const storedEntry = z.object({
  id: entryId,
  parent_id: entryId.nullable(),
  depth: nonNegative,
  /**
   * Depth of the first entry a context read needs: the latest compaction on this entry's path
   * keeps entries from `first_kept_entry_id` on, so a read stops there. 0 without compaction.
   */
  window_depth: nonNegative,
  /** 0 until the append is committed (the leaf moved and the sequence number was taken). */
  seq: nonNegative,
  committed: z.boolean(),
  revision: nonNegative,
  created_at: z.number().int(),
  updated_at: z.number().int(),
  body: sessionEntryBody,
  claimed: z.literal(true).optional(),
  takeovers: nonNegative.optional(),
});
export type StoredEntry = z.infer<typeof storedEntry>;

/** Where an entry sits: enough to place a child under it. */
export type Position = Pick<StoredEntry, 'id' | 'depth' | 'window_depth'>;

/** One session: scope `meta_scope`, key = session id. What `session::get` shows, plus bookkeeping; `leaf_id` absent means null. */
export const storedMeta = sessionInfo.extend({
  leaf_id: entryId.nullable().optional(),
  /**
   * Depth and window depth of the leaf, moved with it in the same atomic update: an append that
   * chains onto the leaf learns its own depth from `increment leaf_depth` without reading the
   * entry it replaced (which may still be committing). -1 for no leaf.
   */
  leaf_depth: z.number().int().min(-1).default(-1),
  leaf_window: nonNegative.default(0),
  claimed: z.literal(true).optional(),
  takeovers: nonNegative.optional(),
  /**
   * The record counts each inbox's pushed and taken items (top-level keys `inbox_pushed:<name>`,
   * `inbox_taken:<name>:<created_at>`; see inbox.ts). Absent in records written before the counts
   * existed: their inboxes are always read.
   */
  inboxes_counted: z.literal(true).optional(),
});
export type StoredMeta = z.infer<typeof storedMeta>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An entry record with its body written (it may not be committed yet). */
export const isWrittenEntry = (value: unknown): boolean => isObject(value) && 'body' in value;

/** A session record past its claim stub. */
export const isCompleteMeta = (value: unknown): boolean => isObject(value) && 'created_at' in value;

export function toSessionEntry(record: StoredEntry): SessionEntry {
  const { id, parent_id, seq, depth, revision, created_at, updated_at, body } = record;
  return { ...body, id, parent_id, seq, depth, revision, created_at, updated_at };
}

export function toSessionInfo(meta: StoredMeta): SessionInfo {
  const {
    claimed: _claimed,
    takeovers: _takeovers,
    leaf_depth: _depth,
    leaf_window: _window,
    inboxes_counted: _counted,
    leaf_id,
    ...rest
  } = meta;
  return { ...rest, leaf_id: leaf_id ?? null };
}

/** Entries in a stable order that does not depend on how the engine lists them. */
export function bySeqThenId(a: StoredEntry, b: StoredEntry): number {
  const sa = a.seq || Number.MAX_SAFE_INTEGER;
  const sb = b.seq || Number.MAX_SAFE_INTEGER;
  return sa !== sb ? sa - sb : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
