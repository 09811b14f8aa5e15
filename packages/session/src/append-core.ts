import { HarnessError, type Logger, uuidv7 } from '@iii-harness/runtime';
import type { SessionEntryBody } from '@iii-harness/types';
import { claimKey, takeOver, waitUntilReady } from './claim.js';
import { waitingInInboxes } from './inbox.js';
import { type Position, type StoredEntry, type StoredMeta, toSessionEntry } from './records.js';
import type { SessionStore } from './store.js';

/** One entry of an append or append_batch call, validated and placed (see append-plan.ts). */
export interface AppendDraft {
  id: string;
  body: SessionEntryBody;
  /** For a compaction: the depth of its first kept entry. */
  keptDepth?: number;
  /** Known to exist already when planned: settle as a duplicate without claiming. */
  existing?: Record<string, unknown>;
  /** The id was generated for this call: nobody else can be writing it, so it needs no claim. */
  fresh?: boolean;
}

export interface AppendOutcome {
  entry: StoredEntry;
  created: boolean;
  /** Items waiting in the session's inboxes right after this append (when the record counts them). */
  inbox_waiting?: number;
}

/** What `begin` left: our record, written and waiting for its commit, or what holds the id. */
export type Begun = { written: StoredEntry } | { taken: Record<string, unknown> | undefined };

const isCommitted = (value: Record<string, unknown>) => value.committed === true;

/**
 * Appending entries, in O(1) state operations each whatever the session's size: claim the key
 * (create-if-absent, so concurrent duplicates of an entry id write once), write the record, then
 * in one atomic update of the session record move the leaf, count the entries and take their
 * sequence numbers, and finally stamp each entry with its number. A chain of new entries (an
 * append_batch) shares that one update. A duplicate waits for the first writer and returns what it
 * wrote; if that writer stalls past `pending_timeout_ms`, one duplicate takes the write over.
 */
export class Appender {
  constructor(
    private readonly store: SessionStore,
    private readonly logger: Logger,
  ) {}

  /** Claim `draft`'s id and write it under `parent` (null: a new root), not yet committed. */
  async begin(meta: StoredMeta, draft: AppendDraft, parent: Position | null): Promise<Begun> {
    if (draft.existing) return { taken: draft.existing };
    if (!draft.fresh) {
      const claim = await claimKey(this.store.bus, this.store.entriesScope(meta.session_id), draft.id, 'id');
      if (!claim.won) return { taken: claim.current };
    }
    const written = await this.write(meta, draft, parent);
    // A takeover got there first (we were too slow): the record is the taker's now.
    return written ? { written } : { taken: undefined };
  }

  private place(
    draft: AppendDraft,
    parent: Position | null,
  ): Pick<StoredEntry, 'parent_id' | 'depth' | 'window_depth'> {
    const depth = parent ? parent.depth + 1 : 0;
    const window_depth = draft.body.type === 'compaction' ? (draft.keptDepth ?? depth) : (parent?.window_depth ?? 0);
    return { parent_id: parent?.id ?? null, depth, window_depth };
  }

  /** Write the claimed record; undefined if a takeover got there first (we were too slow). */
  private async write(
    meta: StoredMeta,
    draft: AppendDraft,
    parent: Position | null,
    asTaker = false,
  ): Promise<StoredEntry | undefined> {
    const now = Date.now();
    const record: StoredEntry = {
      claimed: true,
      id: draft.id,
      ...this.place(draft, parent),
      seq: 0,
      committed: false,
      revision: 0,
      created_at: now,
      updated_at: now,
      body: draft.body,
    };
    const { old_value } = await this.store.bus.state.set(this.store.entriesScope(meta.session_id), draft.id, record);
    // A stalled-writer takeover got here first (it bumped `takeovers` or wrote the body): stand down.
    const previous = (old_value ?? {}) as Record<string, unknown>;
    return !asTaker && ('takeovers' in previous || 'body' in previous) ? undefined : record;
  }

  /**
   * Commit a chain of written entries, each under the previous one: in one atomic update of the
   * session record move the leaf to the last, count them and take their sequence numbers.
   * `chainOntoLeaf`: the first goes under the leaf that update replaced, and the depths come from
   * `increment leaf_depth`: no read of another entry, no race; so concurrent appends without a
   * parent form one chain instead of sibling branches. Otherwise the entries stay where written.
   */
  async commit(meta: StoredMeta, chain: StoredEntry[], chainOntoLeaf: boolean): Promise<AppendOutcome[]> {
    const sessionId = meta.session_id;
    const count = chain.length;
    const last = chain[count - 1]!;
    const { before, after, seq, raw } = await this.store.advance(
      sessionId,
      [
        { type: 'set', path: 'leaf_id', value: last.id },
        ...(chainOntoLeaf
          ? [{ type: 'increment' as const, path: 'leaf_depth', by: count }]
          : [
              { type: 'set' as const, path: 'leaf_depth', value: last.depth },
              { type: 'set' as const, path: 'leaf_window', value: last.window_depth },
            ]),
        { type: 'increment', path: 'entry_count', by: count },
      ],
      count,
    );
    const outcomes: AppendOutcome[] = [];
    for (const [index, written] of chain.entries()) {
      const placed = chainOntoLeaf
        ? {
            parent_id: index === 0 ? (before.leaf_id ?? null) : chain[index - 1]!.id,
            depth: after.leaf_depth - count + 1 + index,
            window_depth: after.leaf_window,
          }
        : {};
      const record: StoredEntry = { ...written, ...placed, seq: seq - count + 1 + index, committed: true };
      const { parent_id, depth, window_depth } = record;
      await this.store.bus.state.update(this.store.entriesScope(sessionId), record.id, [
        { type: 'merge', value: { seq: record.seq, committed: true, parent_id, depth, window_depth } },
      ]);
      await this.store.publish(
        this.logger,
        { type: 'entry_appended', session_id: sessionId, entry_id: record.id, entry: toSessionEntry(record) },
        record.seq,
      );
      outcomes.push({ entry: record, created: true });
    }
    const waiting = waitingInInboxes(after, raw);
    if (waiting !== undefined) outcomes.at(-1)!.inbox_waiting = waiting;
    return outcomes;
  }

  /**
   * Settle an id that `begin` found taken: return the entry once its writer committed it (as a
   * duplicate), or take a stalled write over.
   */
  async settle(
    meta: StoredMeta,
    draft: AppendDraft,
    parent: Position | null,
    observed: Record<string, unknown> | undefined,
  ): Promise<AppendOutcome> {
    if (observed === undefined) return this.awaitCommitted(meta, draft.id);
    const sessionId = meta.session_id;
    if (isCommitted(observed)) return { entry: this.store.parseEntry(sessionId, observed)!, created: false };
    const scope = this.store.entriesScope(sessionId);
    const waited = await waitUntilReady(
      this.store.bus,
      scope,
      draft.id,
      isCommitted,
      this.store.config.pending_timeout_ms,
    );
    if (waited.ready) return { entry: this.store.parseEntry(sessionId, waited.value)!, created: false };
    if (!(await takeOver(this.store.bus, scope, draft.id, waited.value))) return this.awaitCommitted(meta, draft.id);
    this.logger.warn({ entry_id: draft.id }, 'first writer of this entry stalled; taking the append over');
    // Written but not committed: the writer may or may not have moved the leaf; committing again
    // can count the entry twice, which is the price of never losing it.
    const written = this.store.parseEntry(sessionId, waited.value) ?? (await this.write(meta, draft, parent, true))!;
    const [outcome] = await this.commit(meta, [written], false);
    return outcome!;
  }

  private async awaitCommitted(meta: StoredMeta, entryId: string): Promise<AppendOutcome> {
    const waited = await waitUntilReady(
      this.store.bus,
      this.store.entriesScope(meta.session_id),
      entryId,
      isCommitted,
      this.store.config.pending_timeout_ms,
    );
    if (!waited.ready)
      throw new HarnessError('unavailable', `entry ${entryId} is being appended by another call that has not finished`);
    return { entry: this.store.parseEntry(meta.session_id, waited.value)!, created: false };
  }
}

export const newEntryId = (): string => uuidv7();
