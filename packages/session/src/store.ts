import { type Bus, HarnessError, type Logger, type UpdateOp } from '@iii-harness/runtime';
import { SESSION_EVENTS_STREAM, type SessionEvent } from '@iii-harness/types';
import type { Config } from './config.js';
import { LeafHints } from './hints.js';
import {
  entryRecordOf,
  isCompleteMeta,
  isWrittenEntry,
  readEntry,
  readMeta,
  type StoredEntry,
  type StoredMeta,
} from './records.js';

/** Distributes `Omit` over the event union so each variant keeps its own fields. */
type EventFields<E> = E extends SessionEvent ? Omit<E, 'seq' | 'timestamp'> : never;

/**
 * Where sessions live in engine state, and the few primitives every feature builds on.
 * Nothing here reads a whole session except `listEntries` (tree, export, fork, clone, delete).
 */
export class SessionStore {
  /** Where each session's leaf was last seen by this process (appends place their drafts with it). */
  readonly hints: LeafHints;

  constructor(
    readonly bus: Bus,
    readonly config: Config,
  ) {
    this.hints = new LeafHints(config.leaf_hints);
  }

  entriesScope(sessionId: string): string {
    return `${this.config.entries_scope_prefix}:${sessionId}`;
  }

  inboxScope(sessionId: string): string {
    return `${this.config.inbox_scope_prefix}:${sessionId}`;
  }

  /** The session record, or undefined when absent (or still a claim stub). */
  async getMeta(sessionId: string): Promise<StoredMeta | undefined> {
    return (await this.getMetaRecord(sessionId))?.meta;
  }

  async requireMeta(sessionId: string): Promise<StoredMeta> {
    return (await this.requireMetaRecord(sessionId)).meta;
  }

  /** The session record parsed, and as stored (with the per-inbox counts parsing drops). */
  async getMetaRecord(sessionId: string): Promise<{ meta: StoredMeta; raw: Record<string, unknown> } | undefined> {
    const raw = await this.bus.state.get<Record<string, unknown>>(this.config.meta_scope, sessionId);
    if (raw === undefined || !isCompleteMeta(raw)) return undefined;
    const meta = this.parseMeta(sessionId, raw);
    this.hints.note(meta);
    return { meta, raw };
  }

  async requireMetaRecord(sessionId: string): Promise<{ meta: StoredMeta; raw: Record<string, unknown> }> {
    const record = await this.getMetaRecord(sessionId);
    if (!record) throw new HarnessError('not_found', `session ${sessionId} does not exist`);
    return record;
  }

  parseMeta(sessionId: string, raw: unknown): StoredMeta {
    return readMeta(raw, `${this.config.meta_scope}/${sessionId}`);
  }

  parseEntry(sessionId: string, raw: unknown): StoredEntry | undefined {
    return isWrittenEntry(raw)
      ? readEntry(
          entryRecordOf(raw as Record<string, unknown>),
          `${this.entriesScope(sessionId)}/${(raw as { id?: string }).id}`,
        )
      : undefined;
  }

  /** An entry whose body is written, or undefined. */
  async getEntry(sessionId: string, entryId: string): Promise<StoredEntry | undefined> {
    return this.parseEntry(sessionId, await this.bus.state.get(this.entriesScope(sessionId), entryId));
  }

  async requireEntry(sessionId: string, entryId: string): Promise<StoredEntry> {
    const entry = await this.getEntry(sessionId, entryId);
    if (!entry) throw new HarnessError('not_found', `entry ${entryId} does not exist in session ${sessionId}`);
    return entry;
  }

  /** Every written entry of a session, unordered (sort with `bySeqThenId`). */
  async listEntries(sessionId: string): Promise<StoredEntry[]> {
    const values = await this.bus.state.list(this.entriesScope(sessionId));
    const entries: StoredEntry[] = [];
    for (const value of values) {
      const entry = this.parseEntry(sessionId, value);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  /**
   * Apply `ops` to the session record and take the next `seqs` sequence numbers, atomically.
   * Returns the record before and after, and the last number taken. Also how a caller that did
   * not read the record learns that the session does not exist (or was deleted since): `not_found`,
   * and the fragment the update created on the absent key is taken back.
   */
  async advance(
    sessionId: string,
    ops: UpdateOp[] = [],
    seqs = 1,
  ): Promise<{ before: StoredMeta; after: StoredMeta; seq: number; raw: Record<string, unknown> }> {
    const result = await this.bus.state.update<Record<string, unknown>>(this.config.meta_scope, sessionId, [
      ...ops,
      { type: 'increment', path: 'seq', by: seqs },
      { type: 'set', path: 'updated_at', value: Date.now() },
    ]);
    if (!isCompleteMeta(result.old_value)) {
      // No session (absent, or deleted since the caller read it): take back the fragment this update created.
      if (result.old_value === null || result.old_value === undefined)
        await this.bus.state.delete(this.config.meta_scope, sessionId);
      this.hints.forget(sessionId);
      throw new HarnessError('not_found', `session ${sessionId} does not exist`);
    }
    if (result.errors?.length)
      throw new HarnessError(
        'internal',
        `updating session ${sessionId} failed: ${result.errors.map((e) => e.message).join('; ')}`,
      );
    const before = this.parseMeta(sessionId, result.old_value);
    const after = this.parseMeta(sessionId, result.new_value);
    this.hints.note(after);
    return { before, after, seq: after.seq, raw: result.new_value as Record<string, unknown> };
  }

  /**
   * Publish a change on `session::events` (group = session id). Custom stream events, not stored
   * items: storing them would double a session's size. A lost event never fails the change.
   */
  async publish(logger: Logger, fields: EventFields<SessionEvent>, seq: number): Promise<void> {
    const event = { ...fields, seq, timestamp: Date.now() } as SessionEvent;
    try {
      await this.bus.stream.send(SESSION_EVENTS_STREAM, event.session_id, event.type, event, String(seq));
    } catch (error) {
      logger.warn(
        { err: error instanceof HarnessError ? error.toEnvelope() : error, event: event.type, seq },
        'could not publish session event',
      );
    }
  }
}

/** Run `fn` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
