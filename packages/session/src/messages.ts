import type { Handler } from '@iii-harness/runtime';
import { type contracts, entryId, type Message, message } from '@iii-harness/types';
import { z } from 'zod';
import { readPath } from './path.js';
import type { StoredEntry } from './records.js';
import type { SessionStore } from './store.js';

/** How summaries reach the model: as user messages, introduced so the model knows what they are. */
export const COMPACTION_PREFIX = 'The earlier part of this conversation was compacted. Summary:\n\n';
export const BRANCH_SUMMARY_PREFIX = 'Summary of a branch of this conversation that was left:\n\n';

const pathMessage = z.object({ entry_id: entryId, message });
type PathMessage = z.infer<typeof pathMessage>;

const summaryMessage = (prefix: string, summary: string, at: number): Message => ({
  role: 'user',
  content: `${prefix}${summary}`,
  timestamp: at,
});

/**
 * The model's view of a path: messages as they are, branch summaries as user messages, the latest
 * compaction as one summary message in front of what it kept (none for an empty summary), with
 * the function results it replaced shown as replaced. Custom entries and superseded compactions
 * are not sent.
 */
export function toContext(entries: StoredEntry[], compaction: StoredEntry | null): PathMessage[] {
  const out: PathMessage[] = [];
  const body = compaction?.body.type === 'compaction' ? compaction.body : undefined;
  if (compaction && body?.summary)
    out.push({
      entry_id: compaction.id,
      message: summaryMessage(COMPACTION_PREFIX, body.summary, compaction.created_at),
    });
  const replaced = body?.replaced_results;
  for (const entry of entries) {
    if (entry.body.type === 'message')
      out.push({ entry_id: entry.id, message: withReplacedResult(entry.body.message, replaced?.[entry.id]) });
    else if (entry.body.type === 'branch_summary')
      out.push({
        entry_id: entry.id,
        message: summaryMessage(BRANCH_SUMMARY_PREFIX, entry.body.summary, entry.created_at),
      });
  }
  return out;
}

/** Only a function result's content is ever replaced: its call id, and so its pairing, stay. */
const withReplacedResult = (message: Message, text: string | undefined): Message =>
  text === undefined || message.role !== 'function_result'
    ? message
    : { ...message, content: [{ type: 'text', text }] };

export const messages = (store: SessionStore) =>
  (async ({ session_id, leaf_id }) => {
    const meta = await store.requireMeta(session_id);
    const leaf = leaf_id ?? meta.leaf_id ?? null;
    const path = await readPath(store, meta, leaf, 'context');
    return {
      session_id,
      leaf_id: leaf,
      seq: meta.seq,
      compaction_entry_id: path.compaction?.id ?? null,
      messages: toContext(path.entries, path.compaction),
    };
  }) satisfies Handler<typeof contracts.session.messages>;
