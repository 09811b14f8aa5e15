import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import { bySeqThenId, type StoredEntry, toSessionEntry } from './records.js';
import type { SessionStore } from './store.js';

export interface SessionTree {
  ordered: StoredEntry[];
  children: Map<string, string[]>;
  roots: string[];
  activePath: string[];
}

/**
 * The whole tree in memory, from one `state::list`: entries ordered by sequence number, children
 * in the order they were appended. Nothing depends on the order the engine lists values in.
 */
export async function loadTree(store: SessionStore, sessionId: string, leafId: string | null): Promise<SessionTree> {
  const ordered = (await store.listEntries(sessionId)).sort(bySeqThenId);
  const byId = new Map(ordered.map((entry) => [entry.id, entry]));
  const children = new Map<string, string[]>(ordered.map((entry) => [entry.id, []]));
  const roots: string[] = [];
  for (const entry of ordered) {
    const siblings = entry.parent_id === null ? roots : children.get(entry.parent_id);
    (siblings ?? roots).push(entry.id);
  }
  const activePath: string[] = [];
  for (
    let id = leafId;
    id !== null && byId.has(id) && activePath.length <= ordered.length;
    id = byId.get(id)!.parent_id
  )
    activePath.push(id);
  return { ordered, children, roots, activePath: activePath.reverse() };
}

export const tree = (store: SessionStore) =>
  (async ({ session_id }) => {
    const meta = await store.requireMeta(session_id);
    const leaf = meta.leaf_id ?? null;
    const loaded = await loadTree(store, session_id, leaf);
    return {
      session_id,
      leaf_id: leaf,
      seq: meta.seq,
      roots: loaded.roots,
      active_path: loaded.activePath,
      nodes: loaded.ordered.map((entry) => ({
        entry: toSessionEntry(entry),
        children: loaded.children.get(entry.id) ?? [],
      })),
    };
  }) satisfies Handler<typeof contracts.session.tree>;
