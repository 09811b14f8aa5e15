import { z } from 'zod';
import { contract } from '../contract.js';
import { jsonObject, jsonValue } from '../json.js';
import { message } from '../messages.js';
import { entryId, inboxItem, inboxName, sessionEntry, sessionEntryBody, sessionId, sessionInfo } from '../session.js';

/** The `session` worker: a branching tree of typed entries per session, and inbox queues. */

/** Fields a caller may set when a session is created (they never change an existing one). */
const sessionFields = {
  display_name: z.string().max(200).optional(),
  cwd: z.string().max(4096).optional(),
  metadata: jsonObject.optional(),
};
const copyTarget = { new_session_id: sessionId.optional(), ...sessionFields };

/** Absent: chain onto the active leaf. null: start a new root. An id: append under that entry. */
const parentId = entryId.nullable().optional();

const appended = z.object({
  entry_id: entryId,
  created: z.boolean().describe('false when the entry_id existed: nothing was changed'),
  entry: sessionEntry,
  /** Items waiting in the session's inboxes right after the append that wrote this entry (absent: unknown). */
  inbox_waiting: z.number().int().nonnegative().optional(),
});

const created = z.object({ session: sessionInfo, created: z.boolean() });
const oneSession = z.object({ session: sessionInfo });

export const lastMessage = z.object({
  entry_id: entryId,
  role: z.enum(['user', 'assistant', 'function_result']),
  text: z.string(),
  timestamp: z.number().int(),
});

/** A message of a path as the model sees it, with the entry it came from. */
export const pathMessage = z.object({ entry_id: entryId, message });

/** Cursor = `<sort value>:<session id>` of the last session on the previous page. */
export const sessionCursorPattern = /^(\d+):(.+)$/;

const exportFormat = z.enum(['jsonl', 'markdown', 'html']);
const queueRef = { session_id: sessionId, name: inboxName };

/** Upper bounds of the wire; each worker's config may set lower ones (checked by the handler). */
export const SESSION_MAX_PAGE = 10_000;
export const SESSION_MAX_BATCH = 10_000;

export const session = {
  create: contract({
    id: 'session::create',
    description: 'Create an empty session (a new UUIDv7 id unless session_id is given; conflict when it exists)',
    input: z.object({ session_id: sessionId.optional(), ...sessionFields }).strict(),
    output: created,
  }),
  ensure: contract({
    id: 'session::ensure',
    description:
      'Return the session, creating it when absent (safe under concurrent calls; fields apply only on creation)',
    input: z.object({ session_id: sessionId, ...sessionFields }).strict(),
    output: created,
  }),
  get: contract({
    id: 'session::get',
    description: 'One session: its leaf, entry count and last sequence number; not_found when absent',
    input: z.object({ session_id: sessionId }).strict(),
    output: oneSession,
  }),
  list: contract({
    id: 'session::list',
    description:
      'Sessions, newest first (by last update or creation), paged, each with its entry count and last message',
    input: z
      .object({
        limit: z.number().int().min(1).max(SESSION_MAX_PAGE).optional(),
        cursor: z.string().regex(sessionCursorPattern, 'a next_cursor from a previous page').optional(),
        order_by: z.enum(['updated_at', 'created_at']).default('updated_at'),
      })
      .strict(),
    output: z.object({
      sessions: z.array(sessionInfo.extend({ last_message: lastMessage.nullable() })),
      total: z.number().int().nonnegative(),
      next_cursor: z.string().nullable(),
    }),
  }),
  delete: contract({
    id: 'session::delete',
    description: 'Delete a session with all its entries and inboxes; not_found when absent',
    input: z.object({ session_id: sessionId }).strict(),
    output: z.object({ session_id: sessionId, deleted_entries: z.number().int().nonnegative() }),
  }),
  append: contract({
    id: 'session::append',
    description:
      'Append an entry and make it the active leaf; idempotent on entry_id (an existing id changes nothing and is returned)',
    input: z
      .object({ session_id: sessionId, entry: sessionEntryBody, entry_id: entryId.optional(), parent_id: parentId })
      .strict(),
    output: appended,
  }),
  appendBatch: contract({
    id: 'session::append_batch',
    description:
      'Append entries as one chain (each under the previous one); idempotent per entry_id; the last becomes the active leaf',
    input: z
      .object({
        session_id: sessionId,
        parent_id: parentId,
        entries: z
          .array(z.object({ entry: sessionEntryBody, entry_id: entryId.optional() }).strict())
          .min(1)
          .max(SESSION_MAX_BATCH),
      })
      .strict()
      .superRefine(({ entries }, ctx) => {
        const seen = new Set<string>();
        for (const [i, { entry_id }] of entries.entries()) {
          if (entry_id === undefined) continue;
          if (seen.has(entry_id))
            ctx.addIssue({
              code: 'custom',
              path: ['entries', i, 'entry_id'],
              message: `entry_id ${entry_id} appears twice`,
            });
          seen.add(entry_id);
        }
      }),
    output: z.object({ entries: z.array(appended) }),
  }),
  updateEntry: contract({
    id: 'session::update_entry',
    description:
      "Replace an entry's content with a streamed revision; a revision not higher than the stored one is ignored",
    input: z
      .object({
        session_id: sessionId,
        entry_id: entryId,
        revision: z.number().int().positive(),
        entry: sessionEntryBody,
      })
      .strict(),
    output: z.object({
      entry_id: entryId,
      applied: z.boolean(),
      revision: z.number().int().nonnegative(),
      entry: sessionEntry,
    }),
  }),
  getEntry: contract({
    id: 'session::get_entry',
    description: 'One entry of a session by id (a compaction with its details, say); not_found when absent',
    input: z.object({ session_id: sessionId, entry_id: entryId }).strict(),
    output: z.object({ entry: sessionEntry }),
  }),
  messages: contract({
    id: 'session::messages',
    description:
      'The messages of the active path (or of the path to leaf_id), rebuilt through the latest compaction as [summary, ...kept entries]',
    input: z.object({ session_id: sessionId, leaf_id: entryId.optional() }).strict(),
    output: z.object({
      session_id: sessionId,
      leaf_id: entryId.nullable(),
      /** The session's sequence number when read; apply `session::events` with a higher seq. */
      seq: z.number().int().nonnegative(),
      compaction_entry_id: entryId.nullable(),
      messages: z.array(pathMessage),
    }),
  }),
  tree: contract({
    id: 'session::tree',
    description:
      'Every entry of a session with its children, the roots and the active path (flat: deep nesting would exceed JSON depth limits)',
    input: z.object({ session_id: sessionId }).strict(),
    output: z.object({
      session_id: sessionId,
      leaf_id: entryId.nullable(),
      seq: z.number().int().nonnegative(),
      roots: z.array(entryId),
      active_path: z.array(entryId),
      nodes: z.array(z.object({ entry: sessionEntry, children: z.array(entryId) })),
    }),
  }),
  fork: contract({
    id: 'session::fork',
    description: 'A new session holding the path from the root to entry_id, with entry_id as its leaf',
    input: z.object({ session_id: sessionId, entry_id: entryId, ...copyTarget }).strict(),
    output: oneSession,
  }),
  setLeaf: contract({
    id: 'session::set_leaf',
    description:
      'Switch the active branch in place: the next append without parent_id goes under entry_id (null: start a new root)',
    input: z.object({ session_id: sessionId, entry_id: entryId.nullable() }).strict(),
    output: z.object({
      session_id: sessionId,
      leaf_id: entryId.nullable(),
      previous_leaf_id: entryId.nullable(),
      changed: z.boolean(),
    }),
  }),
  clone: contract({
    id: 'session::clone',
    description: 'A new session holding a copy of the whole tree (every branch) with the same active leaf',
    input: z.object({ session_id: sessionId, ...copyTarget }).strict(),
    output: oneSession,
  }),
  export: contract({
    id: 'session::export',
    description:
      'Export a session: jsonl (the record, then every entry of the tree by seq), or markdown / html (the active path, or the path to leaf_id)',
    input: z.object({ session_id: sessionId, format: exportFormat, leaf_id: entryId.optional() }).strict(),
    output: z.object({ session_id: sessionId, format: exportFormat, mime_type: z.string(), content: z.string() }),
  }),
  inboxPush: contract({
    id: 'session::inbox::push',
    description: 'Queue an item (e.g. a steering or follow-up message) on a session inbox',
    input: z.object({ ...queueRef, item: jsonValue }).strict(),
    output: z.object({ item_id: z.string(), size: z.number().int().positive() }),
  }),
  inboxPeek: contract({
    id: 'session::inbox::peek',
    description: 'The items waiting on a session inbox, oldest first, without removing them',
    input: z.object(queueRef).strict(),
    output: z.object({ items: z.array(inboxItem) }),
  }),
  inboxPeekFirst: contract({
    id: 'session::inbox::peek_first',
    description:
      'The first of several inboxes, in the order given, that has items waiting, and its items (oldest first), without removing them',
    input: z.object({ session_id: sessionId, names: z.array(inboxName).min(1).max(16) }).strict(),
    output: z.object({ name: inboxName.optional(), items: z.array(inboxItem) }),
  }),
  inboxAck: contract({
    id: 'session::inbox::ack',
    description:
      'Remove exactly these items from a session inbox (after a peek handled them); items pushed meanwhile stay queued',
    input: z.object({ ...queueRef, ids: z.array(z.string().min(1).max(200)).min(1).max(1000) }).strict(),
    output: z.object({ removed: z.array(z.string()) }),
  }),
  inboxDrain: contract({
    id: 'session::inbox::drain',
    description:
      'Take every item waiting on a session inbox, oldest first, atomically (concurrent pushes are never lost)',
    input: z.object(queueRef).strict(),
    output: z.object({ items: z.array(inboxItem) }),
  }),
};
