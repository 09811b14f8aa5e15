import { type Handler, HarnessError } from '@iii-harness/runtime';
import { type contracts, type lastMessage, type Message, sessionCursorPattern } from '@iii-harness/types';
import type { z } from 'zod';
import { messagePreview } from './message-text.js';
import { isCompleteMeta, readMeta, type StoredMeta, toSessionInfo } from './records.js';
import { mapLimit, type SessionStore } from './store.js';

type LastMessage = z.infer<typeof lastMessage>;

/** How far up from the leaf to look for a message (custom entries may sit on top). */
const LAST_MESSAGE_LOOKBACK = 16;

export const listSessions = (store: SessionStore) =>
  (async ({ limit = store.config.list_page_size, cursor, order_by }) => {
    if (limit > store.config.max_page_size)
      throw new HarnessError('invalid_payload', `limit: at most ${store.config.max_page_size} sessions per page`);
    const all = (await store.bus.state.list(store.config.meta_scope))
      .filter(isCompleteMeta)
      .map((raw) => readMeta(raw, store.config.meta_scope));
    const key = (m: StoredMeta) => m[order_by];
    // Newest first; ties by id so the order (and the cursor) never depends on the engine's listing order.
    all.sort((a, b) => key(b) - key(a) || (a.session_id < b.session_id ? -1 : a.session_id > b.session_id ? 1 : 0));
    const start = cursor ? all.findIndex(isAfter(cursor, key)) : 0;
    const page = start < 0 ? [] : all.slice(start, start + limit);
    const sessions = await mapLimit(page, store.config.write_concurrency, async (meta) => ({
      ...toSessionInfo(meta),
      last_message: await findLastMessage(store, meta),
    }));
    const last = page.at(-1);
    const more = start >= 0 && start + limit < all.length;
    return { sessions, total: all.length, next_cursor: more && last ? `${key(last)}:${last.session_id}` : null };
  }) satisfies Handler<typeof contracts.session.list>;

function isAfter(cursor: string, key: (m: StoredMeta) => number): (m: StoredMeta) => boolean {
  const match = sessionCursorPattern.exec(cursor);
  if (!match) throw new HarnessError('invalid_payload', 'cursor: not a cursor of session::list');
  const value = Number(match[1]);
  const id = match[2]!;
  return (m) => key(m) < value || (key(m) === value && m.session_id > id);
}

/** The nearest message on the active path, looking a few entries up from the leaf. */
async function findLastMessage(store: SessionStore, meta: StoredMeta): Promise<LastMessage | null> {
  let id = meta.leaf_id ?? null;
  for (let step = 0; id !== null && step < LAST_MESSAGE_LOOKBACK; step++) {
    const entry = await store.getEntry(meta.session_id, id);
    if (!entry) return null;
    if (entry.body.type === 'message') return summarize(entry.id, entry.body.message, entry.updated_at);
    id = entry.parent_id;
  }
  return null;
}

const summarize = (entry_id: string, message: Message, at: number): LastMessage => ({
  entry_id,
  role: message.role,
  text: messagePreview(message),
  timestamp: message.timestamp ?? at,
});
