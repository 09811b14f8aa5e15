import { HarnessError, type Logger, type UpdateOp, uuidv7 } from '@iii-harness/runtime';
import type { SessionEntryBody } from '@iii-harness/types';
import { takeOver, waitUntilReady } from './claim.js';
import { waitingInInboxes } from './inbox.js';
import { type EntryDraft, type Position, type StoredEntry, toSessionEntry } from './records.js';
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
  /** Items waiting in the session's inboxes right after this append (when the record counts them). */
  inbox_waiting?: number;
}

/** What `begin` left: our draft, written and waiting for its commit, or what holds the id. */
export type Begun = { written: StoredEntry } | { taken: Record<string, unknown> | undefined };

const isCommitted = (value: Record<string, unknown>) => value.committed === true;

/**
 * Appending entries in O(1) engine calls each, whatever the session's size:
 *
 * 1. **draft**: one update of the entry's key claims the id (create-if-absent: whoever finds no
 *    old value is its one writer, so concurrent duplicates of an entry id write once) and writes
 *    the body with the place the entry is expected to take (records.ts, `entryDraft`);
 * 2. **commit**: one atomic update of the session record moves the leaf, counts the entries and
 *    takes their sequence numbers — for a whole chain of new entries (an append_batch) at once;
 * 3. **stamp**: one update per entry writes its sequence number and its real place;
 * 4. the event.
 *
 * The session record is not read first when this process knows where its leaf was (hints.ts): the
 * commit takes the real leaf from its own update. A duplicate waits for the first writer and
 * returns what it wrote; if that writer stalls past `pending_timeout_ms`, one duplicate takes the
 * write over. A reader finds a draft as an uncommitted entry at its expected place, so the body is
 * never out of reach of the path, whenever a writer dies.
 */
export class Appender {
  /** Drafts this call wrote and has not committed: taken back if the session turns out missing. */
  private readonly drafts = new Set<string>();

  constructor(
    private readonly store: SessionStore,
    private readonly logger: Logger,
    private readonly sessionId: string,
  ) {}

  private get scope(): string {
    return this.store.entriesScope(this.sessionId);
  }

  /** Claim `draft`'s id and write it under `parent` (null: a new root), not yet committed. */
  async begin(draft: AppendDraft, parent: Position | null): Promise<Begun> {
    if (draft.existing) return { taken: draft.existing };
    const record = this.draftRecord(draft, parent);
    const { parent_id, depth, window_depth, created_at, body } = record;
    const { old_value } = await this.store.bus.state.update<Record<string, unknown>>(this.scope, draft.id, [
      { type: 'merge', value: { claimed: true, id: draft.id } },
      // Appended: the first writer's draft stays first (merge would also refuse deep bodies).
      {
        type: 'append',
        path: 'drafts',
        value: { parent_id, depth, window_depth, created_at, body } satisfies EntryDraft,
      },
    ]);
    if (old_value === null || old_value === undefined) {
      this.drafts.add(draft.id);
      return { written: record };
    }
    // The id was taken. A committed entry stays as it was: the draft this update left on it goes.
    // (One in flight keeps the list: its writer's stamp removes it, a takeover uses its first draft.)
    if (isCommitted(old_value))
      await this.store.bus.state.update(this.scope, draft.id, [{ type: 'remove', path: 'drafts' }]);
    return { taken: old_value };
  }

  private draftRecord(draft: AppendDraft, parent: Position | null): StoredEntry {
    const depth = parent ? parent.depth + 1 : 0;
    const window_depth = draft.body.type === 'compaction' ? (draft.keptDepth ?? depth) : (parent?.window_depth ?? 0);
    const now = Date.now();
    return {
      id: draft.id,
      parent_id: parent?.id ?? null,
      depth,
      window_depth,
      seq: 0,
      committed: false,
      revision: 0,
      created_at: now,
      updated_at: now,
      body: draft.body,
    };
  }

  /**
   * Commit a chain of drafts, each under the previous one: in one atomic update of the session
   * record move the leaf to the last, count them and take their sequence numbers, then stamp each.
   * `chainOntoLeaf`: the first goes under the leaf that update replaced, and the depths come from
   * `increment leaf_depth`: no read of another entry, no race; so concurrent appends without a
   * parent form one chain instead of sibling branches. Otherwise the entries stay where drafted.
   */
  async commit(chain: StoredEntry[], chainOntoLeaf: boolean): Promise<AppendOutcome[]> {
    const count = chain.length;
    const last = chain[count - 1]!;
    const { before, after, seq, raw } = await this.advance(
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
      await this.stamp(record);
      this.drafts.delete(record.id);
      await this.store.publish(
        this.logger,
        { type: 'entry_appended', session_id: this.sessionId, entry_id: record.id, entry: toSessionEntry(record) },
        record.seq,
      );
      outcomes.push({ entry: record, created: true });
    }
    const waiting = waitingInInboxes(after, raw);
    if (waiting !== undefined) outcomes.at(-1)!.inbox_waiting = waiting;
    return outcomes;
  }

  /** The session record's update; a session found missing takes back the drafts this call wrote. */
  private async advance(ops: UpdateOp[], seqs: number): ReturnType<SessionStore['advance']> {
    try {
      return await this.store.advance(this.sessionId, ops, seqs);
    } catch (error) {
      if (error instanceof HarnessError && error.code === 'not_found')
        for (const id of this.drafts) await this.store.bus.state.delete(this.scope, id);
      throw error;
    }
  }

  /** The entry's own fields, from its draft (`set` ops: merge would refuse deeply nested bodies). */
  private async stamp(record: StoredEntry): Promise<void> {
    const fields = [
      'body',
      'parent_id',
      'depth',
      'window_depth',
      'seq',
      'committed',
      'created_at',
      'updated_at',
    ] as const;
    await this.store.bus.state.update(this.scope, record.id, [
      ...fields.map((path) => ({ type: 'set' as const, path, value: record[path] })),
      { type: 'remove', path: 'drafts' },
    ]);
  }

  /**
   * Settle an id that `begin` found taken: return the entry once its writer committed it (as a
   * duplicate), or take a stalled write over.
   */
  async settle(
    draft: AppendDraft,
    parent: Position | null,
    observed: Record<string, unknown> | undefined,
  ): Promise<AppendOutcome> {
    if (observed === undefined) return this.awaitCommitted(draft.id);
    const sessionId = this.sessionId;
    if (isCommitted(observed)) return { entry: this.store.parseEntry(sessionId, observed)!, created: false };
    const waited = await waitUntilReady(
      this.store.bus,
      this.scope,
      draft.id,
      isCommitted,
      this.store.config.pending_timeout_ms,
    );
    if (waited.ready) return { entry: this.store.parseEntry(sessionId, waited.value)!, created: false };
    if (!(await takeOver(this.store.bus, this.scope, draft.id, waited.value))) return this.awaitCommitted(draft.id);
    this.logger.warn({ entry_id: draft.id }, 'first writer of this entry stalled; taking the append over');
    // Drafted but not committed: the writer may or may not have moved the leaf, so the entry stays
    // where it was drafted; committing again can count it twice, which is the price of never losing it.
    const written = this.store.parseEntry(sessionId, waited.value) ?? this.draftRecord(draft, parent);
    const [outcome] = await this.commit([written], false);
    return outcome!;
  }

  private async awaitCommitted(entryId: string): Promise<AppendOutcome> {
    const waited = await waitUntilReady(
      this.store.bus,
      this.scope,
      entryId,
      isCommitted,
      this.store.config.pending_timeout_ms,
    );
    if (!waited.ready)
      throw new HarnessError('unavailable', `entry ${entryId} is being appended by another call that has not finished`);
    return { entry: this.store.parseEntry(this.sessionId, waited.value)!, created: false };
  }
}

export const newEntryId = (): string => uuidv7();
