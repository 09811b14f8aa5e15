import { type Handler, HarnessError, type UpdateOp, uuidv7 } from '@iii-harness/runtime';
import { type contracts, type InboxItem, inboxItem, type JsonValue } from '@iii-harness/types';
import { z } from 'zod';
import type { StoredMeta } from './records.js';
import type { SessionStore } from './store.js';

/**
 * Inbox queues (`steering`, `followup`, ...): scope `<inbox_scope_prefix>:<session_id>`, key =
 * name, value `{name, "item:<id>": {id, seq, pushed_at, incarnation, item}, ...}` — one top-level
 * key per item, so every operation is one atomic engine call:
 * - push: `set` of one new key;
 * - ack: `remove` of exactly the acknowledged keys (items pushed meanwhile stay);
 * - drain: `state::set` of `{name}`, taking the value it replaced.
 * A push racing a drain lands either in what the drain took or in what it left: never lost,
 * never delivered twice. Order is the session's sequence number, taken before the push.
 *
 * The session record counts, per inbox, the items pushed (key `inbox_pushed:<name>`) and the
 * items taken (`inbox_taken:<name>:<created_at>`), so a read of an empty inbox costs one engine
 * call: the session read it needs anyway. A push counts its item in the update that takes its
 * sequence number, before writing it; ack and drain count what they removed, after removing it.
 * So whenever an item is in the inbox, pushed - taken covers it, and 0 means empty. A push or ack
 * that dies half-way leaves the difference too high, which only costs the read.
 * Items carry the `created_at` of the session record their push counted them in (the session's
 * incarnation), and "taken" is counted under it: items a deleted session with the same id left
 * behind (a push racing the delete), or an ack whose session is deleted and created again under
 * it, never count against the items of another incarnation.
 */
const ITEM_PREFIX = 'item:';
const storedItem = inboxItem.extend({ seq: z.number().int().nonnegative(), incarnation: z.number().int().optional() });
type StoredItem = z.infer<typeof storedItem>;

const pushedKey = (name: string) => `inbox_pushed:${name}`;
const takenKey = (name: string, incarnation: number) => `inbox_taken:${name}:${incarnation}`;

/** False only when the session record proves the inbox empty (records before the counts: read it). */
function mayHoldItems(meta: StoredMeta, raw: Record<string, unknown>, name: string): boolean {
  if (meta.inboxes_counted !== true) return true;
  const count = (key: string) => (typeof raw[key] === 'number' ? (raw[key] as number) : 0);
  return count(pushedKey(name)) - count(takenKey(name, meta.created_at)) !== 0;
}

/**
 * Items waiting in all of a session's inboxes, from its record's counts (pushed − taken); undefined
 * for a record written before the counts existed. Appends report it, so a caller that appended
 * (the turn, right before its steering check) knows without a read whether there is anything to fold in.
 */
export function waitingInInboxes(meta: StoredMeta, raw: Record<string, unknown>): number | undefined {
  if (meta.inboxes_counted !== true) return undefined;
  let waiting = 0;
  for (const [key, pushed] of Object.entries(raw)) {
    if (!key.startsWith('inbox_pushed:') || typeof pushed !== 'number') continue;
    const taken = raw[takenKey(key.slice('inbox_pushed:'.length), meta.created_at)];
    waiting += pushed - (typeof taken === 'number' ? taken : 0);
  }
  return Math.max(0, waiting);
}

/** The stored items of an inbox value, oldest first. */
function storedItemsOf(value: unknown): StoredItem[] {
  if (value === null || typeof value !== 'object') return [];
  const items: StoredItem[] = [];
  for (const [key, raw] of Object.entries(value)) {
    if (!key.startsWith(ITEM_PREFIX)) continue;
    const parsed = storedItem.safeParse(raw);
    if (!parsed.success) throw new HarnessError('internal', `inbox item ${key} is malformed`);
    items.push(parsed.data);
  }
  return items.sort((a, b) => a.seq - b.seq || (a.id < b.id ? -1 : 1));
}

const toInboxItem = ({ id, pushed_at, item }: StoredItem): InboxItem => ({ id, pushed_at, item });

/** The items waiting on one inbox, oldest first; no read when the session record proves it empty. */
async function waitingItems(
  store: SessionStore,
  meta: StoredMeta,
  raw: Record<string, unknown>,
  name: string,
): Promise<InboxItem[]> {
  if (!mayHoldItems(meta, raw, name)) return [];
  return storedItemsOf(await store.bus.state.get(store.inboxScope(meta.session_id), name)).map(toInboxItem);
}

/**
 * Count the removed items of this incarnation as taken, under its key: should the session have
 * been deleted and created again since `meta` was read, the count lands beside the new one's.
 * Items of other incarnations never counted here.
 */
function countTaken(name: string, removed: StoredItem[], meta: StoredMeta): UpdateOp[] {
  const by = removed.filter((item) => item.incarnation === meta.created_at).length;
  return by ? [{ type: 'increment', path: takenKey(name, meta.created_at), by }] : [];
}

export const inboxPush = (store: SessionStore) =>
  (async ({ session_id, name, item }, { logger }) => {
    // Also the existence check: not_found when there is no session.
    const { after, seq } = await store.advance(session_id, [{ type: 'increment', path: pushedKey(name), by: 1 }]);
    const queued: StoredItem = {
      id: uuidv7(),
      seq,
      pushed_at: Date.now(),
      incarnation: after.created_at,
      item: item as JsonValue,
    };
    // `set` ops, not a merge: merge refuses values nested deeper than 16 levels.
    const { new_value } = await store.bus.state.update(store.inboxScope(session_id), name, [
      { type: 'set', path: 'name', value: name },
      { type: 'set', path: `${ITEM_PREFIX}${queued.id}`, value: queued },
    ]);
    const size = storedItemsOf(new_value).length;
    await store.publish(logger, { type: 'inbox_pushed', session_id, name, item_id: queued.id, size }, seq);
    return { item_id: queued.id, size };
  }) satisfies Handler<typeof contracts.session.inboxPush>;

export const inboxPeek = (store: SessionStore) =>
  (async ({ session_id, name }) => {
    const { meta, raw } = await store.requireMetaRecord(session_id);
    return { items: await waitingItems(store, meta, raw, name) };
  }) satisfies Handler<typeof contracts.session.inboxPeek>;

export const inboxPeekFirst = (store: SessionStore) =>
  (async ({ session_id, names }) => {
    // One session read answers for every empty inbox: a turn's check of its inboxes is one call.
    const { meta, raw } = await store.requireMetaRecord(session_id);
    for (const name of names) {
      const items = await waitingItems(store, meta, raw, name);
      if (items.length) return { name, items };
    }
    return { items: [] };
  }) satisfies Handler<typeof contracts.session.inboxPeekFirst>;

export const inboxAck = (store: SessionStore) =>
  (async ({ session_id, name, ids }, { logger }) => {
    const { meta, raw } = await store.requireMetaRecord(session_id);
    if (!mayHoldItems(meta, raw, name)) return { removed: [] };
    const unique = [...new Set(ids)];
    // Removing keys that are not there changes nothing, so no read first; `name` keeps the record
    // well-formed should it not exist.
    const { old_value } = await store.bus.state.update(store.inboxScope(session_id), name, [
      { type: 'set', path: 'name', value: name },
      ...unique.map((id) => ({ type: 'remove' as const, path: `${ITEM_PREFIX}${id}` })),
    ]);
    const waiting = new Map(storedItemsOf(old_value).map((item) => [item.id, item]));
    const removed = unique.filter((id) => waiting.has(id));
    if (removed.length) {
      const { seq } = await store.advance(
        session_id,
        countTaken(
          name,
          removed.map((id) => waiting.get(id)!),
          meta,
        ),
      );
      await store.publish(logger, { type: 'inbox_acked', session_id, name, item_ids: removed }, seq);
    }
    return { removed };
  }) satisfies Handler<typeof contracts.session.inboxAck>;

export const inboxDrain = (store: SessionStore) =>
  (async ({ session_id, name }, { logger }) => {
    const { meta, raw } = await store.requireMetaRecord(session_id);
    if (!mayHoldItems(meta, raw, name)) return { items: [] };
    const { old_value } = await store.bus.state.set(store.inboxScope(session_id), name, { name });
    const taken = storedItemsOf(old_value);
    if (taken.length) {
      const { seq } = await store.advance(session_id, countTaken(name, taken, meta));
      await store.publish(logger, { type: 'inbox_drained', session_id, name, count: taken.length }, seq);
    }
    return { items: taken.map(toInboxItem) };
  }) satisfies Handler<typeof contracts.session.inboxDrain>;
