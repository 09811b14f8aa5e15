import { z } from 'zod';
import { jsonObject, jsonValue } from './json.js';
import { message } from './messages.js';

/**
 * Wire shapes of the `session` worker: the typed entries of a session tree, the session record,
 * the inbox items and the change events on stream `session::events` (group = session id).
 */

/** Session ids become part of engine state scope names, so they keep to a safe alphabet. */
export const sessionId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/,
    'a session id: 1-128 characters of A-Z a-z 0-9 _ . : - (not starting with a separator)',
  );

/** Entry ids are caller-given when a write may be redelivered (`<turn_id>:<step>:assistant`). */
export const entryId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/,
    'an entry id: 1-200 characters of A-Z a-z 0-9 _ . : - (not starting with a separator)',
  );

/** Inbox names such as `steering` and `followup`. */
export const inboxName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'an inbox name: lowercase letters, digits, _ or -, at most 64');

export const messageEntryBody = z.object({ type: z.literal('message'), message }).strict();

/** Anything a worker wants on the path that is not sent to the model (labels, model switches, ...). */
export const customEntryBody = z
  .object({ type: z.literal('custom'), custom_type: z.string().min(1).max(128), data: jsonValue })
  .strict();

/** A summary of a branch the user left; it is sent to the model as a user message. */
export const branchSummaryEntryBody = z
  .object({ type: z.literal('branch_summary'), summary: z.string(), from_entry_id: entryId })
  .strict();

/**
 * The path before `first_kept_entry_id` summarized. Reading the active path through it yields
 * `[summary message, ...entries from first_kept_entry_id on]`; the transcript itself is kept.
 * An empty summary sends no summary message (a compaction that only shortened results).
 */
export const compactionEntryBody = z
  .object({
    type: z.literal('compaction'),
    summary: z.string(),
    tokens_before: z.number().int().nonnegative(),
    first_kept_entry_id: entryId,
    /**
     * Function results of the kept entries as the model now sees them (entry id → text): outputs
     * capped or pruned by compaction. The stored entries stay as they were.
     */
    replaced_results: z.record(entryId, z.string()).optional(),
    details: jsonObject.optional(),
  })
  .strict();

/** What a caller appends. */
export const sessionEntryBody = z.discriminatedUnion('type', [
  messageEntryBody,
  customEntryBody,
  branchSummaryEntryBody,
  compactionEntryBody,
]);
export type SessionEntryBody = z.infer<typeof sessionEntryBody>;
export type SessionEntryType = SessionEntryBody['type'];

const entryHeader = {
  id: entryId,
  /** null for a root entry. */
  parent_id: entryId.nullable(),
  /** Per-session sequence number; orders entries (and events) within a session. */
  seq: z.number().int().nonnegative(),
  /** Distance from the root (a root entry has depth 0). */
  depth: z.number().int().nonnegative(),
  /** Streamed updates (`session::update_entry`) bump it; 0 as appended. */
  revision: z.number().int().nonnegative(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
};

/** An entry as the session worker returns it: the body's fields plus the header. */
export const sessionEntry = z.discriminatedUnion('type', [
  messageEntryBody.extend(entryHeader),
  customEntryBody.extend(entryHeader),
  branchSummaryEntryBody.extend(entryHeader),
  compactionEntryBody.extend(entryHeader),
]);
export type SessionEntry = z.infer<typeof sessionEntry>;

export const sessionInfo = z.object({
  session_id: sessionId,
  created_at: z.number().int(),
  updated_at: z.number().int(),
  display_name: z.string().optional(),
  cwd: z.string().optional(),
  metadata: jsonObject.optional(),
  /** The active leaf: where an append without `parent_id` goes. null for an empty session. */
  leaf_id: entryId.nullable(),
  /** Entries in the whole tree (every branch). */
  entry_count: z.number().int().nonnegative(),
  /** The last sequence number used; events with a higher `seq` are newer than this snapshot. */
  seq: z.number().int().nonnegative(),
  forked_from: z.object({ session_id: sessionId, entry_id: entryId }).optional(),
  cloned_from: sessionId.optional(),
});
export type SessionInfo = z.infer<typeof sessionInfo>;

export const inboxItem = z.object({ id: z.string(), pushed_at: z.number().int(), item: jsonValue });
export type InboxItem = z.infer<typeof inboxItem>;

/**
 * Events on stream `session::events` (group = session id), sent as custom stream events (not
 * stored items): a client takes a snapshot (`session::get` / `messages` / `tree`, which carry
 * `seq`) and applies events with a higher `seq`. Delivery order is not guaranteed; `seq` is.
 */
const eventEnvelope = { session_id: sessionId, seq: z.number().int().positive(), timestamp: z.number().int() };

export const sessionCreatedEvent = z.object({
  ...eventEnvelope,
  type: z.literal('session_created'),
  forked_from: z.object({ session_id: sessionId, entry_id: entryId }).optional(),
  cloned_from: sessionId.optional(),
});
export const sessionDeletedEvent = z.object({ ...eventEnvelope, type: z.literal('session_deleted') });
/** An entry was appended and became the active leaf. */
export const entryAppendedEvent = z.object({
  ...eventEnvelope,
  type: z.literal('entry_appended'),
  entry_id: entryId,
  entry: sessionEntry,
});
export const entryUpdatedEvent = z.object({
  ...eventEnvelope,
  type: z.literal('entry_updated'),
  entry_id: entryId,
  revision: z.number().int().positive(),
  entry: sessionEntry,
});
/** `set_leaf` switched the active branch. */
export const leafChangedEvent = z.object({
  ...eventEnvelope,
  type: z.literal('leaf_changed'),
  leaf_id: entryId.nullable(),
  previous_leaf_id: entryId.nullable(),
});
export const inboxPushedEvent = z.object({
  ...eventEnvelope,
  type: z.literal('inbox_pushed'),
  name: inboxName,
  item_id: z.string(),
  size: z.number().int().positive(),
});
export const inboxDrainedEvent = z.object({
  ...eventEnvelope,
  type: z.literal('inbox_drained'),
  name: inboxName,
  count: z.number().int().positive(),
});
/** `inbox::ack` removed these items (a consumer that peeks, handles, then acknowledges). */
export const inboxAckedEvent = z.object({
  ...eventEnvelope,
  type: z.literal('inbox_acked'),
  name: inboxName,
  item_ids: z.array(z.string()).min(1),
});

export const sessionEvent = z.discriminatedUnion('type', [
  sessionCreatedEvent,
  sessionDeletedEvent,
  entryAppendedEvent,
  entryUpdatedEvent,
  leafChangedEvent,
  inboxPushedEvent,
  inboxDrainedEvent,
  inboxAckedEvent,
]);
export type SessionEvent = z.infer<typeof sessionEvent>;
export type SessionEventType = SessionEvent['type'];
