import { HarnessError } from '@iii-harness/runtime';
import type { StoredEntry, StoredMeta } from './records.js';
import type { SessionStore } from './store.js';

export interface ActivePath {
  /** Root → leaf (in `context` mode: from the latest compaction's first kept entry → leaf). */
  entries: StoredEntry[];
  /** The latest compaction on the path, in `context` mode. */
  compaction: StoredEntry | null;
  /** How the path was read, for benchmarks and logs. */
  strategy: 'get' | 'list';
}

/**
 * Read the path from `leafId` up to the root, following `parent_id` links.
 * `context` stops at the latest compaction's first kept entry: what a model call needs, which
 * stays short however long the session grows. `full` goes to the root (fork, export).
 *
 * Cost is linear in the entries read. Each `state::get` is a round trip, so a path that is most of
 * its session is read with one `state::list` instead (see `path_list_factor`). For the active leaf
 * the session record carries its depths, so the choice is made before reading any entry: a list
 * read is then the only call.
 */
export async function readPath(
  store: SessionStore,
  meta: StoredMeta,
  leafId: string | null,
  mode: 'context' | 'full',
): Promise<ActivePath> {
  if (leafId === null) return { entries: [], compaction: null, strategy: 'get' };
  const sessionId = meta.session_id;
  const read = leafId === (meta.leaf_id ?? null) ? undefined : await store.requireEntry(sessionId, leafId);
  const depth = read?.depth ?? meta.leaf_depth;
  const windowDepth = read?.window_depth ?? meta.leaf_window;
  const expected = depth - (mode === 'context' ? windowDepth : 0) + 1;
  const { path_list_factor: factor, path_list_min: min } = store.config;
  const useList = factor > 0 && expected >= min && expected * factor >= meta.entry_count;
  const lookup = useList ? await listLookup(store, sessionId) : (id: string) => store.getEntry(sessionId, id);
  const leaf = read ?? (await lookup(leafId));
  if (!leaf) throw new HarnessError('not_found', `entry ${leafId} does not exist in session ${sessionId}`);

  const entries = [leaf];
  let compaction: StoredEntry | null = null;
  for (let node = leaf; ; ) {
    if (mode === 'context') {
      if (!compaction && node.body.type === 'compaction') compaction = node;
      if (compaction?.body.type === 'compaction' && node.id === compaction.body.first_kept_entry_id) break;
    }
    if (node.parent_id === null) break;
    const parent = await lookup(node.parent_id);
    // A draft whose writer died before its stamp may name a place that is gone (a stale hint):
    // the path ends there instead of failing the read.
    if (!parent && !node.committed) break;
    if (!parent)
      throw new HarnessError(
        'internal',
        `session ${sessionId}: entry ${node.id} points to a missing parent ${node.parent_id}`,
      );
    // A first kept entry that is not on this path (the leaf was moved): stop at its depth.
    if (compaction && parent.depth < compaction.window_depth) break;
    entries.push(parent);
    node = parent;
  }
  entries.reverse();
  return { entries, compaction, strategy: useList ? 'list' : 'get' };
}

/** Every entry of the session from one `state::list`; only those on the path get parsed. */
async function listLookup(store: SessionStore, sessionId: string): Promise<(id: string) => StoredEntry | undefined> {
  const byId = new Map<string, unknown>();
  for (const value of await store.bus.state.list(store.entriesScope(sessionId))) {
    const id = (value as { id?: unknown } | null)?.id;
    if (typeof id === 'string') byId.set(id, value);
  }
  return (id) => store.parseEntry(sessionId, byId.get(id));
}
