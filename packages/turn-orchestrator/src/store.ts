import { type Bus, HarnessError, type Logger, type UpdateOp, versionedRecord } from '@iii-harness/runtime';
import { AGENT_EVENT_SEQ, isTerminalTurnState } from '@iii-harness/types';
import { z } from 'zod';
import { type TurnRecord, turnRecord } from './record.js';
import { migrateV1 } from './record-migrations.js';

const SCOPE = AGENT_EVENT_SEQ.scope;
const SEQ = AGENT_EVENT_SEQ.field;
/** Where the agent-event counter lived before version 2 (scope, key = session id, field). */
const LEGACY_SEQ = { scope: 'agent_event_seq', field: 'seq' } as const;
/** The layout this code writes. */
export const TURN_RECORD_VERSION = 2;

/**
 * One turn record per session in scope `turn_state`, laid out so that a delivery that lost the
 * turn can no longer change it (fencing) even though the engine has no compare-and-set:
 *
 *   { v: 2, epoch, event_seq, abort?, "@<epoch>": record, "start:<nonce>"?: claimed_at }
 *
 * - Each delivery of a step job starts by incrementing `epoch` (one atomic update that also
 *   returns the record): the number it gets is its own. It writes the record only under its own
 *   key `@<epoch>`, and every write returns the stored value, so it learns at once when a later
 *   delivery has taken the turn (`Fenced`). A reader takes the copy of the newest turn (turn ids
 *   are time-ordered), and of its copies the highest `@<n>`. A write of a delivery that was
 *   overtaken lands under a lower key that nobody reads, and is removed by the next write of the
 *   current one; a late write of an ended turn's delivery never hides the turn that replaced it.
 * - `event_seq` is the session's agent-event counter: a save reserves the numbers of the events
 *   that follow it in the same write; other emitters increment it one at a time.
 * - `abort` is written only by `run::abort`, beside the record, so no save overwrites it.
 * - `start:<nonce>` keys serialize `run::start` across every copy of the orchestrator (claimStart).
 */
export interface StoredTurn {
  /** The highest epoch handed out so far. */
  epoch: number;
  record?: TurnRecord;
  abort?: { turn_id: string; requested_at: number };
  /** Keys of record copies present (`@<n>`), the current one included. */
  copies: string[];
  /** Ops the next write adds to finish upgrading an older layout (empty when current). */
  upgrade: UpdateOp[];
}

export interface Reserved {
  /** The first and last agent-event numbers reserved (first > last: none). */
  first: number;
  last: number;
}

/** A write by a delivery that is no longer the turn's: it changed nothing anyone reads; stop at once. */
export class Fenced extends Error {
  constructor(sessionId: string, mine: number, current: number) {
    super(`turn of session ${sessionId} was taken over (epoch ${mine} < ${current}); this delivery stops`);
    this.name = 'Fenced';
  }
}

const abortRequest = z.object({ turn_id: z.string(), requested_at: z.number().int() });

/** The stored value around the record copies (`@<epoch>` keys pass through as they are). */
const layout = versionedRecord({
  what: 'turn record',
  current: TURN_RECORD_VERSION,
  schema: z.looseObject({
    epoch: z.number().int().nonnegative().default(0),
    [SEQ]: z.number().int().optional(),
    abort: abortRequest.optional(),
  }),
  migrations: { 1: migrateV1 },
  unversioned: 1,
});

const copyKey = (epoch: number) => `@${epoch}`;

/** Whether copy `a` is newer than copy `b`: a newer turn (uuidv7 ids sort by time), else a higher epoch. */
function newerCopy(value: Record<string, unknown>, a: string, b: string): boolean {
  const turnOf = (key: string) => {
    const copy = value[key];
    return isObject(copy) && typeof copy.turn_id === 'string' ? copy.turn_id : '';
  };
  const [ta, tb] = [turnOf(a), turnOf(b)];
  if (ta !== tb) return ta > tb;
  return Number(a.slice(1)) > Number(b.slice(1));
}
const COPY = /^@(\d+)$/;
const startKey = (nonce: string) => `start:${nonce}`;
const START = /^start:/;
const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const LAYOUT_KEYS = new Set(['v', 'epoch', SEQ, 'abort']);

export const abortsTurn = (stored: Pick<StoredTurn, 'abort'> | undefined, turnId: string) =>
  stored?.abort?.turn_id === turnId;

export class TurnStore {
  constructor(
    private readonly bus: Bus,
    private readonly logger?: Logger,
  ) {}

  /** The session's turn record as stored (undefined: the session never had a turn). */
  async read(sessionId: string): Promise<StoredTurn | undefined> {
    const value = await this.bus.state.get(SCOPE, sessionId);
    return value === undefined ? undefined : this.parse(sessionId, value);
  }

  async get(sessionId: string): Promise<TurnRecord | undefined> {
    return (await this.read(sessionId))?.record;
  }

  /** Every stored turn (recovery); a record that cannot be read is logged and left out. */
  async list(): Promise<Array<StoredTurn & { record: TurnRecord }>> {
    const out: Array<StoredTurn & { record: TurnRecord }> = [];
    for (const value of await this.bus.state.list(SCOPE)) {
      try {
        const stored = await this.parse('(list)', value, false);
        if (stored.record) out.push(stored as StoredTurn & { record: TurnRecord });
      } catch (error) {
        this.logger?.warn({ err: (error as Error).message }, 'skipping a turn record that cannot be read');
      }
    }
    return out;
  }

  /** Take the turn for this delivery: the next epoch, and the record as of that instant. */
  async claim(sessionId: string): Promise<StoredTurn> {
    const { new_value } = await this.bus.state.update(SCOPE, sessionId, [{ type: 'increment', path: 'epoch', by: 1 }]);
    return this.parse(sessionId, new_value);
  }

  /**
   * Claim the right to start a turn on the session, on every copy of the orchestrator at once: one
   * update writes this start's own key `start:<nonce>` and returns the whole value. The start wins
   * when, in that value, no turn is live and no other start's key is younger than `claimMs` (the
   * first of concurrent starts to land sees none; every later one sees it). A start that loses
   * takes its key back (`dropStart`); the winner's key goes with the record it creates; the key of
   * a start that died expires after `claimMs`.
   */
  async claimStart(
    sessionId: string,
    nonce: string,
    claimMs: number,
  ): Promise<{ won: boolean; stored: StoredTurn; stale: string[] }> {
    const now = Date.now();
    const mine = startKey(nonce);
    const { new_value } = await this.bus.state.update<Record<string, unknown>>(SCOPE, sessionId, [
      { type: 'set', path: mine, value: now },
    ]);
    const stored = await this.parse(sessionId, new_value);
    const others = Object.entries(new_value ?? {}).filter(([key]) => START.test(key) && key !== mine);
    const fresh = (at: unknown) => typeof at === 'number' && at + claimMs > now;
    const live = stored.record !== undefined && !isTerminalTurnState(stored.record.state);
    return {
      won: !live && !others.some(([, at]) => fresh(at)),
      stored,
      stale: others.filter(([, at]) => !fresh(at)).map(([key]) => key),
    };
  }

  /** A start that lost gives its claim back at once, so it holds up no later start. */
  async dropStart(sessionId: string, nonce: string): Promise<void> {
    await this.bus.state.update(SCOPE, sessionId, [{ type: 'remove', path: startKey(nonce) }]);
  }

  /**
   * A new turn replaces whatever the session held (the start's claim found it over): the record
   * goes under a fresh epoch; older copies, the previous turn's abort request, this start's claim
   * and the expired claims it saw are removed; `reserve` event numbers are taken for the events
   * that follow.
   */
  async create(
    claim: { stored: StoredTurn; stale: string[]; nonce: string },
    record: TurnRecord,
    reserve: number,
  ): Promise<Reserved> {
    const previous = claim.stored;
    const epoch = previous.epoch + 1;
    const ops: UpdateOp[] = [
      ...previous.upgrade,
      ...previous.copies.map((key) => ({ type: 'remove' as const, path: key })),
      ...[startKey(claim.nonce), ...claim.stale].map((path) => ({ type: 'remove' as const, path })),
      { type: 'remove', path: 'abort' },
      { type: 'increment', path: 'epoch', by: 1 },
      { type: 'set', path: copyKey(epoch), value: record },
      ...this.reserveOps(reserve),
    ];
    const { new_value } = await this.bus.state.update<Record<string, unknown>>(SCOPE, record.session_id, ops);
    const taken = typeof new_value?.epoch === 'number' ? new_value.epoch : epoch;
    if (taken !== epoch) {
      // A delivery (a late job of the ended turn) took `epoch` between the start's claim and this
      // write, so its writes would land on this copy. The epoch this write took is ours alone.
      await this.bus.state.update(SCOPE, record.session_id, [
        { type: 'set', path: copyKey(taken), value: record },
        { type: 'remove', path: copyKey(epoch) },
      ]);
    }
    return reservedFrom(new_value, reserve);
  }

  /**
   * Write `record` as the delivery holding `epoch`, with `reserve` event numbers. Throws Fenced when
   * a later delivery took the turn. Returns the reservation, whether an abort of this turn is asked,
   * and the copies now present (the next save removes the stale ones).
   */
  async save(
    epoch: number,
    record: TurnRecord,
    options: { reserve: number; stale: string[]; upgrade: UpdateOp[] },
  ): Promise<{ reserved: Reserved; aborted: boolean; copies: string[] }> {
    const mine = copyKey(epoch);
    const ops: UpdateOp[] = [
      ...options.upgrade,
      ...options.stale.filter((key) => key !== mine).map((key) => ({ type: 'remove' as const, path: key })),
      { type: 'set', path: mine, value: { ...record, updated_at: Date.now() } },
      ...this.reserveOps(options.reserve),
    ];
    const { new_value } = await this.bus.state.update<Record<string, unknown>>(SCOPE, record.session_id, ops);
    const current = typeof new_value?.epoch === 'number' ? new_value.epoch : 0;
    if (current !== epoch) throw new Fenced(record.session_id, epoch, current);
    const abort = isObject(new_value.abort) ? (new_value.abort as StoredTurn['abort']) : undefined;
    return {
      reserved: reservedFrom(new_value, options.reserve),
      aborted: abortsTurn({ abort }, record.turn_id),
      copies: Object.keys(new_value).filter((key) => COPY.test(key)),
    };
  }

  /** Reserve `count` event numbers on their own (when a step emits more than its save reserved). */
  async reserve(sessionId: string, count: number): Promise<Reserved> {
    const { new_value } = await this.bus.state.update<Record<string, unknown>>(
      SCOPE,
      sessionId,
      this.reserveOps(count),
    );
    return reservedFrom(new_value, count);
  }

  async requestAbort(sessionId: string, turnId: string): Promise<void> {
    await this.bus.state.update(SCOPE, sessionId, [
      { type: 'set', path: 'abort', value: { turn_id: turnId, requested_at: Date.now() } },
    ]);
  }

  private reserveOps(count: number): UpdateOp[] {
    return count > 0 ? [{ type: 'increment', path: SEQ, by: count }] : [];
  }

  private freshLayout(): UpdateOp[] {
    return [{ type: 'set', path: 'v', value: TURN_RECORD_VERSION }];
  }

  /**
   * Read a stored value of any known layout (runtime's versionedRecord: older versions migrated,
   * a newer one refused, so an older worker never guesses at — or overwrites — it). What an older
   * layout needs to become current in place is returned as ops for the next write: version 1 kept
   * the record's fields at the top and the event counter in scope `agent_event_seq`.
   */
  private async parse(sessionId: string, value: unknown, seedCounter = true): Promise<StoredTurn> {
    const where = `${SCOPE}/${sessionId}`;
    if (!isObject(value))
      throw new HarnessError('internal', `turn record at ${where} is malformed: not an object`, {
        reason: 'malformed_record',
      });
    // A value with no record yet (a counter or an epoch written before any turn) is of no version.
    const stated = 'v' in value || 'turn_id' in value ? value : { ...value, v: TURN_RECORD_VERSION };
    const read = layout.read(stated, where);
    const copies = Object.keys(read).filter((key) => COPY.test(key));
    const latest = copies.reduce<string | undefined>(
      (best, key) => (best === undefined || newerCopy(read, key, best) ? key : best),
      undefined,
    );
    const stored: StoredTurn = {
      epoch: read.epoch,
      abort: read.abort,
      copies: copies.filter((key) => key in value),
      upgrade: value.v === TURN_RECORD_VERSION ? [] : await this.upgradeOps(value, seedCounter),
    };
    if (latest) stored.record = parseRecord(read[latest], `${where}/${latest}`);
    return stored;
  }

  /** Ops that make a stored value of an older layout current, in the next write. */
  private async upgradeOps(value: Record<string, unknown>, seedCounter: boolean): Promise<UpdateOp[]> {
    const ops: UpdateOp[] = [
      ...this.freshLayout(),
      ...Object.keys(value)
        .filter((key) => !LAYOUT_KEYS.has(key) && !COPY.test(key) && !START.test(key))
        .map((path) => ({ type: 'remove' as const, path })),
    ];
    // The counter moves into the record; numbers continue after the old one's (an emitter that
    // already counted in the new place only adds to them).
    if (seedCounter && 'turn_id' in value && typeof value.session_id === 'string') {
      const legacy = await this.bus.state.get<Record<string, unknown>>(LEGACY_SEQ.scope, value.session_id);
      const last = typeof legacy?.[LEGACY_SEQ.field] === 'number' ? (legacy[LEGACY_SEQ.field] as number) : 0;
      if (last > 0) ops.push({ type: 'increment', path: SEQ, by: last });
    }
    return ops;
  }
}

function parseRecord(value: unknown, where: string): TurnRecord {
  const parsed = turnRecord.safeParse(value);
  if (!parsed.success)
    throw new HarnessError('internal', `turn record at ${where} is malformed: ${parsed.error.issues[0]?.message}`, {
      reason: 'malformed_record',
    });
  return parsed.data;
}

function reservedFrom(value: Record<string, unknown> | null, count: number): Reserved {
  const last = typeof value?.[SEQ] === 'number' ? (value[SEQ] as number) : 0;
  return { first: last - count + 1, last };
}
