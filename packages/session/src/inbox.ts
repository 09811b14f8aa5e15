import { defineFunction, HarnessError, uuidv7 } from '@iii-harness/runtime';
import { inboxItem, inboxName, jsonValue, sessionId, type InboxItem, type JsonValue } from '@iii-harness/types';
import { z } from 'zod';
import type { SessionStore } from './store.js';

/**
 * Inbox queues (`steering`, `followup`, ...): scope `<inbox_scope_prefix>:<session_id>`, key =
 * name, value `{name, "item:<id>": {id, seq, pushed_at, item}, ...}` — one top-level key per
 * item, so every operation is one atomic engine call:
 * - push: `merge` of one new key;
 * - ack: `remove` of exactly the acknowledged keys (items pushed meanwhile stay);
 * - drain: `state::set` of `{name}`, taking the value it replaced.
 * A push racing a drain lands either in what the drain took or in what it left: never lost,
 * never delivered twice. Order is the session's sequence number, taken before the push.
 */
const ITEM_PREFIX = 'item:';
const storedItem = inboxItem.extend({ seq: z.number().int().nonnegative() });
type StoredItem = z.infer<typeof storedItem>;

const queueRef = { session_id: sessionId, name: inboxName };

/** The items of a stored inbox value, oldest first. */
function itemsOf(value: unknown): InboxItem[] {
  if (value === null || typeof value !== 'object') return [];
  const items: StoredItem[] = [];
  for (const [key, raw] of Object.entries(value)) {
    if (!key.startsWith(ITEM_PREFIX)) continue;
    const parsed = storedItem.safeParse(raw);
    if (!parsed.success) throw new HarnessError('internal', `inbox item ${key} is malformed`);
    items.push(parsed.data);
  }
  return items.sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1)).map(({ id, pushed_at, item }) => ({ id, pushed_at, item }));
}

export const inboxPush = (store: SessionStore) =>
  defineFunction({
    id: 'session::inbox::push',
    description: 'Queue an item (e.g. a steering or follow-up message) on a session inbox',
    input: z.object({ ...queueRef, item: jsonValue }).strict(),
    output: z.object({ item_id: z.string(), size: z.number().int().positive() }),
    async handler({ session_id, name, item }, { logger }) {
      await store.requireMeta(session_id);
      const { seq } = await store.advance(session_id);
      const queued: StoredItem = { id: uuidv7(), seq, pushed_at: Date.now(), item: item as JsonValue };
      // `set` ops, not a merge: merge refuses values nested deeper than 16 levels.
      const { new_value } = await store.bus.state.update(store.inboxScope(session_id), name, [
        { type: 'set', path: 'name', value: name },
        { type: 'set', path: `${ITEM_PREFIX}${queued.id}`, value: queued },
      ]);
      const size = itemsOf(new_value).length;
      await store.publish(logger, { type: 'inbox_pushed', session_id, name, item_id: queued.id, size }, seq);
      return { item_id: queued.id, size };
    },
  });

export const inboxPeek = (store: SessionStore) =>
  defineFunction({
    id: 'session::inbox::peek',
    description: 'The items waiting on a session inbox, oldest first, without removing them',
    input: z.object(queueRef).strict(),
    output: z.object({ items: z.array(inboxItem) }),
    async handler({ session_id, name }) {
      await store.requireMeta(session_id);
      return { items: itemsOf(await store.bus.state.get(store.inboxScope(session_id), name)) };
    },
  });

export const inboxAck = (store: SessionStore) =>
  defineFunction({
    id: 'session::inbox::ack',
    description: 'Remove exactly these items from a session inbox (after a peek handled them); items pushed meanwhile stay queued',
    input: z.object({ ...queueRef, ids: z.array(z.string().min(1).max(200)).min(1).max(1000) }).strict(),
    output: z.object({ removed: z.array(z.string()) }),
    async handler({ session_id, name, ids }, { logger }) {
      await store.requireMeta(session_id);
      const scope = store.inboxScope(session_id);
      const waiting = new Set(itemsOf(await store.bus.state.get(scope, name)).map((i) => i.id));
      if (!ids.some((id) => waiting.has(id))) return { removed: [] };
      const { old_value } = await store.bus.state.update(scope, name, [...new Set(ids)].map((id) => ({ type: 'remove' as const, path: `${ITEM_PREFIX}${id}` })));
      const before = new Set(itemsOf(old_value).map((i) => i.id));
      const removed = ids.filter((id, i) => before.has(id) && ids.indexOf(id) === i);
      if (removed.length) {
        const { seq } = await store.advance(session_id);
        await store.publish(logger, { type: 'inbox_acked', session_id, name, item_ids: removed }, seq);
      }
      return { removed };
    },
  });

export const inboxDrain = (store: SessionStore) =>
  defineFunction({
    id: 'session::inbox::drain',
    description: 'Take every item waiting on a session inbox, oldest first, atomically (concurrent pushes are never lost)',
    input: z.object(queueRef).strict(),
    output: z.object({ items: z.array(inboxItem) }),
    async handler({ session_id, name }, { logger }) {
      await store.requireMeta(session_id);
      const scope = store.inboxScope(session_id);
      if (itemsOf(await store.bus.state.get(scope, name)).length === 0) return { items: [] };
      const { old_value } = await store.bus.state.set(scope, name, { name });
      const items = itemsOf(old_value);
      if (items.length) {
        const { seq } = await store.advance(session_id);
        await store.publish(logger, { type: 'inbox_drained', session_id, name, count: items.length }, seq);
      }
      return { items };
    },
  });
