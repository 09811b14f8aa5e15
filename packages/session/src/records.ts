import { versionedRecord } from '@iii-harness/runtime';
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
  /** Absent until a revision is written (update_entry): 0. */
  revision: nonNegative.default(0),
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

/**
 * Both records carry a version `v` (runtime's versionedRecord): an older one is migrated on read,
 * a newer one refused. Records written before the field existed have today's shape: version 1.
 * (`inboxes_counted` stays a field, not a migration: a record without it has no counts, and no
 * read-time step can count its inboxes without reading them.)
 */
const metaVersions = versionedRecord({
  what: 'session record',
  current: 1,
  unversioned: 1,
  schema: storedMeta,
  migrations: {},
});
const entryVersions = versionedRecord({
  what: 'session entry',
  current: 1,
  unversioned: 1,
  schema: storedEntry,
  migrations: {},
});
/** The version this worker writes on entries (set by the stamp that commits an append). */
export const ENTRY_VERSION = entryVersions.current;

/** A stored session record in the current shape (`v` checked and dropped). */
export function readMeta(value: unknown, where: string): StoredMeta {
  const { v: _v, ...meta } = metaVersions.read(value, where);
  return meta;
}

/** A stored entry record in the current shape (`v` checked and dropped). */
export function readEntry(value: unknown, where: string): StoredEntry {
  const { v: _v, ...entry } = entryVersions.read(value, where);
  return entry;
}

export const stampMeta = <R extends object>(record: R) => metaVersions.stamp(record);
export const stampEntry = <R extends object>(record: R) => entryVersions.stamp(record);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What an append writes first, in the same atomic update that claims the entry id: the body and
 * where the entry is expected to go. Drafts are appended to a list, so the first writer's stays
 * first whatever duplicates arrive while it is in flight; the commit's stamp moves it into the
 * record's own fields and removes the list.
 */
export const entryDraft = z.object({
  parent_id: entryId.nullable(),
  depth: nonNegative,
  window_depth: nonNegative,
  created_at: z.number().int(),
  body: sessionEntryBody,
});
export type EntryDraft = z.infer<typeof entryDraft>;

const firstDraft = (value: Record<string, unknown>): Record<string, unknown> | undefined => {
  const drafts = value.drafts;
  return Array.isArray(drafts) && isObject(drafts[0]) ? drafts[0] : undefined;
};

/**
 * An entry record with its body written, stamped or still a draft (an append in flight, or one
 * whose writer died before the stamp). A draft reads as an uncommitted entry at its expected place.
 */
export const isWrittenEntry = (value: unknown): boolean =>
  isObject(value) && ('body' in value || firstDraft(value) !== undefined);

/** A stored entry value as an entry record (the stamped fields win over leftover drafts). */
export function entryRecordOf(value: Record<string, unknown>): Record<string, unknown> {
  const draft = 'body' in value ? undefined : firstDraft(value);
  if (!draft) return value;
  const { drafts: _drafts, ...rest } = value;
  return { seq: 0, committed: false, updated_at: draft.created_at, ...rest, ...draft };
}

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
