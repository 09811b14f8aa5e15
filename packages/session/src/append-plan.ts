import { HarnessError } from '@iii-harness/runtime';
import type { SessionEntryBody } from '@iii-harness/types';
import { type AppendDraft, newEntryId } from './append-core.js';
import type { Position } from './records.js';
import type { SessionStore } from './store.js';

export interface ChainItem {
  entry_id?: string;
  entry: SessionEntryBody;
}

export interface ChainPlan {
  /** Where the first item goes (null: it becomes a root). */
  start: Position | null;
  /** No parent was given: the first item chains onto the active leaf. */
  chainOntoLeaf: boolean;
  drafts: AppendDraft[];
}

/** An entry's link while planning (planned entries are not written yet). */
interface Link {
  id: string;
  parent_id: string | null;
  depth: number;
}

/**
 * Where a chain starts. Onto the leaf: where this process last saw it (a hint, see hints.ts: the
 * commit finds the real leaf), else the session record says (a read that also answers `not_found`
 * for a missing session); under a given parent: that entry, which must exist. A chain with a
 * compaction or a branch summary reads the record: a compaction is placed where its path was
 * checked, so that place must be the leaf itself, not a hint of it.
 */
async function startOf(
  store: SessionStore,
  sessionId: string,
  parentId: string | null | undefined,
  exact: boolean,
): Promise<Position | null> {
  if (parentId === null) return null;
  if (parentId !== undefined) return store.requireEntry(sessionId, parentId);
  const hint = exact ? undefined : store.hints.get(sessionId);
  if (hint !== undefined) return hint;
  const meta = await store.requireMeta(sessionId);
  return meta.leaf_id ? { id: meta.leaf_id, depth: meta.leaf_depth, window_depth: meta.leaf_window } : null;
}

/**
 * Check everything an append depends on before anything is written, so a rejected call changes
 * no state: the parent exists, a branch summary's source exists, and a compaction's first kept
 * entry lies on the path it summarizes. Items chain one onto the previous one. Chaining onto the
 * leaf reads nothing when this process knows where the leaf was.
 */
export async function planChain(
  store: SessionStore,
  sessionId: string,
  parentId: string | null | undefined,
  items: ChainItem[],
): Promise<ChainPlan> {
  const chainOntoLeaf = parentId === undefined;
  const start = await startOf(
    store,
    sessionId,
    parentId,
    items.some((item) => hasReferences(item.entry)),
  );
  const planned = new Map<string, Link>();
  const lookup = async (id: string): Promise<Link | undefined> =>
    planned.get(id) ?? (await store.getEntry(sessionId, id));
  // Whether an entry id exists matters before writing only to the reference checks: an existing
  // entry is returned as it is, unchecked, and a later check walks through its stored link. Up to
  // the last item with references the ids are read here; after it, claiming tells the same.
  const checkedUpTo = items.findLastIndex((item) => hasReferences(item.entry));
  const drafts: AppendDraft[] = [];
  let previous: Pick<Link, 'id' | 'depth'> | null = start;
  for (const [index, item] of items.entries()) {
    const id = item.entry_id ?? newEntryId();
    const existing =
      item.entry_id && index <= checkedUpTo
        ? await store.bus.state.get<Record<string, unknown>>(store.entriesScope(sessionId), id)
        : undefined;
    let link: Link = { id, parent_id: previous?.id ?? null, depth: previous ? previous.depth + 1 : 0 };
    if (existing) {
      drafts.push({ id, body: item.entry, existing });
      link = store.parseEntry(sessionId, existing) ?? link;
    } else {
      const where = items.length > 1 ? `entries.${index}.entry` : 'entry';
      const keptDepth = await checkReferences(item.entry, {
        id,
        depth: link.depth,
        parentId: link.parent_id,
        lookup,
        where,
      });
      drafts.push({ id, body: item.entry, keptDepth });
    }
    planned.set(id, link);
    previous = link;
  }
  return { start, chainOntoLeaf, drafts };
}

interface Place {
  id: string;
  depth: number;
  parentId: string | null;
  lookup(id: string): Promise<Link | undefined>;
  where: string;
}

const hasReferences = (body: SessionEntryBody): boolean => body.type === 'branch_summary' || body.type === 'compaction';

/** Validate an entry's references; for a compaction, returns the depth of its first kept entry. */
async function checkReferences(body: SessionEntryBody, place: Place): Promise<number | undefined> {
  const invalid = (field: string, message: string) =>
    new HarnessError('invalid_payload', `${place.where}.${field}: ${message}`);
  if (body.type === 'branch_summary' && !(await place.lookup(body.from_entry_id))) {
    throw invalid('from_entry_id', `entry ${body.from_entry_id} does not exist in this session`);
  }
  if (body.type !== 'compaction') return undefined;
  const firstKept = body.first_kept_entry_id;
  if (firstKept === place.id) return place.depth;
  const target = await place.lookup(firstKept);
  if (!target) throw invalid('first_kept_entry_id', `entry ${firstKept} does not exist in this session`);
  // Walk up from the parent: the first kept entry must be on the path being summarized.
  for (let id = place.parentId; id !== null; id = (await place.lookup(id))?.parent_id ?? null) {
    if (id === firstKept) return target.depth;
  }
  throw invalid('first_kept_entry_id', `entry ${firstKept} is not on the path this compaction summarizes`);
}
