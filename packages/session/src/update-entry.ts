import { type Bus, type Handler, HarnessError } from '@iii-harness/runtime';
import type { contracts, SessionEntryBody } from '@iii-harness/types';
import { readEntry, type StoredEntry, toSessionEntry } from './records.js';
import type { SessionStore } from './store.js';

type Revision = Pick<StoredEntry, 'revision' | 'body' | 'updated_at'>;

/** What identifies an entry on its path; a revision may change its content, never these. */
function identityChange(current: SessionEntryBody, next: SessionEntryBody): string | undefined {
  if (current.type !== next.type) return `type ${current.type} cannot become ${next.type}`;
  if (current.type === 'message' && next.type === 'message' && current.message.role !== next.message.role)
    return `role ${current.message.role} cannot become ${next.message.role}`;
  if (
    current.type === 'compaction' &&
    next.type === 'compaction' &&
    current.first_kept_entry_id !== next.first_kept_entry_id
  )
    return 'first_kept_entry_id cannot change';
  if (
    current.type === 'branch_summary' &&
    next.type === 'branch_summary' &&
    current.from_entry_id !== next.from_entry_id
  )
    return 'from_entry_id cannot change';
  return undefined;
}

/** Overwrite the revision fields (`set` ops: merge would refuse bodies nested deeper than 16). */
async function writeRevision(bus: Bus, scope: string, id: string, revision: Revision): Promise<StoredEntry> {
  const { old_value } = await bus.state.update(scope, id, [
    { type: 'set', path: 'body', value: revision.body },
    { type: 'set', path: 'revision', value: revision.revision },
    { type: 'set', path: 'updated_at', value: revision.updated_at },
  ]);
  return readEntry(old_value, `${scope}/${id}`);
}

/**
 * Last write wins by revision, without a compare-and-set in the engine: each write returns the
 * value it replaced, and a writer that replaced a higher revision writes that one back (and
 * repeats with whatever it replaces then). The highest revision always ends up stored: whoever
 * overwrites it learns so and restores it. Readers may glimpse a lower revision for a moment.
 */
export const updateEntry = (store: SessionStore) =>
  (async ({ session_id, entry_id, revision, entry }, { logger }) => {
    // The entry first. The session record is read only on the paths that write nothing (so a
    // deleted session is not_found there too); a write learns it from `advance`.
    // An append still in flight is not there yet, as in every other read (its stamp writes the body).
    const current = await store.getEntry(session_id, entry_id);
    if (!current?.committed) {
      await store.requireMeta(session_id);
      throw new HarnessError('not_found', `entry ${entry_id} does not exist in session ${session_id}`);
    }
    const change = identityChange(current.body, entry);
    if (change || current.revision >= revision) await store.requireMeta(session_id);
    if (change) throw new HarnessError('conflict', `entry ${entry_id}: ${change}`, { reason: 'entry_identity' });
    if (current.revision >= revision)
      return { entry_id, applied: false, revision: current.revision, entry: toSessionEntry(current) };

    const scope = store.entriesScope(session_id);
    const ours: Revision = { revision, body: entry, updated_at: Date.now() };
    let stored = ours;
    let replaced = await writeRevision(store.bus, scope, entry_id, ours);
    while (replaced.revision > stored.revision) {
      stored = { revision: replaced.revision, body: replaced.body, updated_at: replaced.updated_at };
      replaced = await writeRevision(store.bus, scope, entry_id, stored);
    }
    const updated = toSessionEntry({ ...replaced, ...stored });
    if (stored !== ours) return { entry_id, applied: false, revision: stored.revision, entry: updated };
    const { seq } = await store.advance(session_id);
    await store.publish(logger, { type: 'entry_updated', session_id, entry_id, revision, entry: updated }, seq);
    return { entry_id, applied: true, revision, entry: updated };
  }) satisfies Handler<typeof contracts.session.updateEntry>;
