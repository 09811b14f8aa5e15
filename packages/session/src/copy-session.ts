import { type Handler, HarnessError, type Logger, uuidv7 } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import { claimSession, completeSession, newSessionRecord } from './create-session.js';
import { readPath } from './path.js';
import { bySeqThenId, type StoredEntry, type StoredMeta, stampEntry, toSessionInfo } from './records.js';
import { mapLimit, type SessionStore } from './store.js';

type CopyTarget = { new_session_id?: string } & Pick<StoredMeta, 'display_name' | 'cwd' | 'metadata'>;

/**
 * Copy entries into a new session. Entry ids stay as they are (they are unique per session), so
 * references such as a compaction's `first_kept_entry_id` stay valid. The new session's record
 * is written last: until then the session does not exist for readers.
 */
async function copyInto(
  store: SessionStore,
  logger: Logger,
  source: StoredMeta,
  target: CopyTarget,
  entries: StoredEntry[],
  shape: Partial<StoredMeta>,
): Promise<StoredMeta> {
  const id = target.new_session_id ?? uuidv7();
  const claim = await claimSession(store, id);
  if (!claim.claimed) throw new HarnessError('conflict', `session ${id} already exists`, { reason: 'session_exists' });
  const scope = store.entriesScope(id);
  await mapLimit(entries, store.config.write_concurrency, ({ takeovers: _t, ...entry }) =>
    store.bus.state.set(scope, entry.id, stampEntry({ ...entry, claimed: true, committed: true })),
  );
  const fields = {
    display_name: target.display_name ?? source.display_name,
    cwd: target.cwd ?? source.cwd,
    metadata: target.metadata ?? source.metadata,
  };
  const defined = Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
  return completeSession(store, logger, { ...newSessionRecord(id, defined), ...shape });
}

export const fork = (store: SessionStore) =>
  (async ({ session_id, entry_id, ...target }, { logger }) => {
    const source = await store.requireMeta(session_id);
    const path = await readPath(store, source, entry_id, 'full');
    const entries = path.entries.map((entry, index) => ({ ...entry, seq: index + 1 }));
    const leaf = entries.at(-1)!;
    const shape = {
      leaf_id: entry_id,
      leaf_depth: leaf.depth,
      leaf_window: leaf.window_depth,
      entry_count: entries.length,
      seq: entries.length + 1,
      forked_from: { session_id, entry_id },
    };
    return { session: toSessionInfo(await copyInto(store, logger, source, target, entries, shape)) };
  }) satisfies Handler<typeof contracts.session.fork>;

export const clone = (store: SessionStore) =>
  (async ({ session_id, ...target }, { logger }) => {
    const source = await store.requireMeta(session_id);
    const ordered = (await store.listEntries(session_id)).sort(bySeqThenId);
    // Entries still being committed have no sequence number yet: they come after the rest.
    let last = ordered.reduce((max, entry) => Math.max(max, entry.seq), source.seq);
    const entries = ordered.map((entry) => (entry.seq > 0 ? entry : { ...entry, seq: ++last }));
    const { leaf_id = null, leaf_depth, leaf_window } = source;
    const shape = {
      leaf_id,
      leaf_depth,
      leaf_window,
      entry_count: entries.length,
      seq: last + 1,
      cloned_from: session_id,
    };
    return { session: toSessionInfo(await copyInto(store, logger, source, target, entries, shape)) };
  }) satisfies Handler<typeof contracts.session.clone>;
