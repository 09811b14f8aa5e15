import { HarnessError, uuidv7, type Logger } from '@iii-harness/runtime';
import type { SessionEntryBody } from '@iii-harness/types';
import { claimKey, takeOver, waitUntilReady } from './claim.js';
import { toSessionEntry, type Position, type StoredEntry, type StoredMeta } from './records.js';
import type { SessionStore } from './store.js';

/** One entry of an append or append_batch call, validated and placed (see append-plan.ts). */
export interface AppendDraft {
  id: string;
  body: SessionEntryBody;
  /** For a compaction: the depth of its first kept entry. */
  keptDepth?: number;
  /** Known to exist already when planned: settle as a duplicate without claiming. */
  existing?: Record<string, unknown>;
}

export interface AppendOutcome {
  entry: StoredEntry;
  created: boolean;
}

const isCommitted = (value: Record<string, unknown>) => value.committed === true;

/**
 * Appending one entry, in O(1) state operations whatever the session's size:
 * claim the key (create-if-absent, so concurrent duplicates of an entry id write once), write the
 * record, then in one atomic update of the session record move the leaf, count the entry and take
 * a sequence number, and finally stamp the entry with it. A duplicate waits for the first writer
 * and returns what it wrote; if that writer stalls past `pending_timeout_ms`, one duplicate
 * takes the write over.
 */
export class Appender {
  constructor(
    private readonly store: SessionStore,
    private readonly logger: Logger,
  ) {}

  /**
   * Append `draft` under `parent` (null: a new root). `chainOntoLeaf` means the caller gave no
   * parent: the entry goes under whatever the leaf is when its commit swaps the leaf, so
   * concurrent appends form one chain instead of sibling branches.
   */
  async append(meta: StoredMeta, draft: AppendDraft, parent: Position | null, chainOntoLeaf: boolean): Promise<AppendOutcome> {
    const scope = this.store.entriesScope(meta.session_id);
    if (draft.existing) return this.settleDuplicate(meta, draft, parent, draft.existing);
    const claim = await claimKey(this.store.bus, scope, draft.id, 'id');
    if (!claim.won) return this.settleDuplicate(meta, draft, parent, claim.current);
    const record = await this.write(meta, draft, parent);
    if (!record) return this.awaitCommitted(meta, draft.id);
    return this.commit(meta, record, chainOntoLeaf);
  }

  private place(draft: AppendDraft, parent: Position | null): Pick<StoredEntry, 'parent_id' | 'depth' | 'window_depth'> {
    const depth = parent ? parent.depth + 1 : 0;
    const window_depth = draft.body.type === 'compaction' ? (draft.keptDepth ?? depth) : (parent?.window_depth ?? 0);
    return { parent_id: parent?.id ?? null, depth, window_depth };
  }

  /** Write the claimed record; undefined if a takeover got there first (we were too slow). */
  private async write(meta: StoredMeta, draft: AppendDraft, parent: Position | null, asTaker = false): Promise<StoredEntry | undefined> {
    const now = Date.now();
    const record: StoredEntry = { claimed: true, id: draft.id, ...this.place(draft, parent), seq: 0, committed: false, revision: 0, created_at: now, updated_at: now, body: draft.body };
    const { old_value } = await this.store.bus.state.set(this.store.entriesScope(meta.session_id), draft.id, record);
    // A stalled-writer takeover got here first (it bumped `takeovers` or wrote the body): stand down.
    const previous = (old_value ?? {}) as Record<string, unknown>;
    return !asTaker && ('takeovers' in previous || 'body' in previous) ? undefined : record;
  }

  /**
   * Move the leaf, count the entry and take its sequence number in one atomic update of the
   * session record. Chaining onto the leaf, the entry's parent is the leaf that update replaced
   * and its depth comes from `increment leaf_depth`: no read of another entry, no race.
   */
  private async commit(meta: StoredMeta, written: StoredEntry, chainOntoLeaf: boolean): Promise<AppendOutcome> {
    const sessionId = meta.session_id;
    const chain = chainOntoLeaf && written.body.type !== 'compaction';
    const { before, after, seq } = await this.store.advance(sessionId, [
      { type: 'set', path: 'leaf_id', value: written.id },
      ...(chain
        ? [{ type: 'increment' as const, path: 'leaf_depth', by: 1 }]
        : [
            { type: 'set' as const, path: 'leaf_depth', value: written.depth },
            { type: 'set' as const, path: 'leaf_window', value: written.window_depth },
          ]),
      { type: 'increment', path: 'entry_count', by: 1 },
    ]);
    const placed = chain ? { parent_id: before.leaf_id ?? null, depth: after.leaf_depth, window_depth: after.leaf_window } : {};
    const record: StoredEntry = { ...written, ...placed, seq, committed: true };
    const { parent_id, depth, window_depth } = record;
    await this.store.bus.state.update(this.store.entriesScope(sessionId), record.id, [
      { type: 'merge', value: { seq, committed: true, parent_id, depth, window_depth } },
    ]);
    await this.store.publish(this.logger, { type: 'entry_appended', session_id: sessionId, entry_id: record.id, entry: toSessionEntry(record) }, seq);
    return { entry: record, created: true };
  }

  private async settleDuplicate(meta: StoredMeta, draft: AppendDraft, parent: Position | null, observed: Record<string, unknown>): Promise<AppendOutcome> {
    const sessionId = meta.session_id;
    if (isCommitted(observed)) return { entry: this.store.parseEntry(sessionId, observed)!, created: false };
    const scope = this.store.entriesScope(sessionId);
    const waited = await waitUntilReady(this.store.bus, scope, draft.id, isCommitted, this.store.config.pending_timeout_ms);
    if (waited.ready) return { entry: this.store.parseEntry(sessionId, waited.value)!, created: false };
    if (!(await takeOver(this.store.bus, scope, draft.id, waited.value))) return this.awaitCommitted(meta, draft.id);
    this.logger.warn({ entry_id: draft.id }, 'first writer of this entry stalled; taking the append over');
    // Written but not committed: the writer may or may not have moved the leaf; committing again
    // can count the entry twice, which is the price of never losing it.
    const written = this.store.parseEntry(sessionId, waited.value) ?? (await this.write(meta, draft, parent, true))!;
    return this.commit(meta, written, false);
  }

  private async awaitCommitted(meta: StoredMeta, entryId: string): Promise<AppendOutcome> {
    const waited = await waitUntilReady(this.store.bus, this.store.entriesScope(meta.session_id), entryId, isCommitted, this.store.config.pending_timeout_ms);
    if (!waited.ready) throw new HarnessError('unavailable', `entry ${entryId} is being appended by another call that has not finished`);
    return { entry: this.store.parseEntry(meta.session_id, waited.value)!, created: false };
  }
}

export const newEntryId = (): string => uuidv7();
