import type { AgentEventInput, Bus, Logger, UpdateOp } from '@iii-harness/runtime';
import {
  AGENT_EVENTS_STREAM,
  contracts,
  type ErrorEnvelope,
  isTerminalTurnState,
  TURN_STEP_QUEUE,
  type TurnState,
  type TurnStepState,
  turnStepContract,
} from '@iii-harness/types';
import type { WorkerCaches } from './caches.js';
import type { Config } from './config.js';
import { EventLog, eventItemId } from './events.js';
import { GateAnswers } from './gate-answers.js';
import { waitOut } from './patience.js';
import type { Batch, OutboxEntry, TurnRecord } from './record.js';
import { errorResult, INTERRUPTED } from './results.js';
import type { StoredTurn, TurnStore } from './store.js';
import { abortsTurn } from './store.js';
import { assistantEntry, resultEntries, Transcript } from './transcript.js';
import { nextState, type StepOutcome, turnOutcomeOf } from './transitions.js';

/** What every delivery needs from the worker. */
export interface Deps {
  bus: Bus;
  logger: Logger;
  config: Config;
  store: TurnStore;
  caches: WorkerCaches;
  /** Aborts when the worker starts draining (SIGTERM): deliveries hand over at their next transition. */
  shutdown?: AbortSignal;
}

/** What a step reports: what happened (the driver looks up where that leads) and what changes with it. */
export interface StepResult {
  outcome: StepOutcome;
  changes?: Partial<TurnRecord>;
  /** For an ending: why (`completed`, `max_turns`, the failure's message). */
  reason?: string;
  error?: ErrorEnvelope;
}

/** Event numbers a save keeps in hand for a possible ending (its `turn_completed`). */
const SPARE = 1;

/** Events a transition into `state` emits before the next save, so that save can reserve them. */
function eventsAfterEntering(state: TurnState, record: TurnRecord): number {
  // state change + message_complete + a few coalesced message_updates
  if (state === 'assistant_streaming') return 4;
  // state change + start and end of each call the transition triggered
  if (state === 'function_execute')
    return 1 + 2 * (record.batch?.calls.filter((c) => c.status === 'triggered').length ?? 0);
  return 1;
}

/**
 * One delivery's hold on a turn: the record as last saved, and the only ways to change it. Every
 * write is the delivery's own (its epoch; see store.ts): a delivery that was overtaken fails its
 * next write with `Fenced` and stops, so it can neither run a tool nor append nor end the turn.
 * Side effects follow the save that decides them (write-ahead): entries to append, inbox items to
 * acknowledge and holds to cancel travel in the record, are carried out right after the save,
 * and again — harmlessly: ids are deterministic — by a delivery that finds them after a crash.
 */
export class TurnRun {
  readonly events: EventLog;
  readonly transcript: Transcript;
  readonly gate: GateAnswers;
  readonly logger: Logger;
  /**
   * Calls this delivery's saves marked `triggered` (and those of them whose function has left), or
   * `held` (their hold is this delivery's to create). A delivery that finds such marks left by
   * another knows only that the call may have run, or that a hold may exist.
   */
  readonly triggeredHere = new Set<string>();
  readonly started = new Set<string>();
  readonly heldHere = new Set<string>();
  private current: TurnRecord;
  private readonly ownEpoch: number;
  private copies: string[];
  private upgrade: UpdateOp[];
  private aborted: boolean;
  private abortCheckedAt = Date.now();
  private readonly waitedFor = new Set<string>();
  /** What the last save decided that is not carried out yet (an ending takes it over). */
  private uncarried: Partial<TurnRecord> = {};

  constructor(
    readonly deps: Deps,
    claimed: StoredTurn & { record: TurnRecord },
  ) {
    const record = claimed.record;
    this.current = record;
    this.ownEpoch = claimed.epoch;
    this.copies = claimed.copies;
    this.uncarried = decidedBy(record);
    this.upgrade = claimed.upgrade;
    this.aborted = abortsTurn(claimed, record.turn_id);
    this.logger = deps.logger.child({ session_id: record.session_id, turn_id: record.turn_id });
    this.events = new EventLog(deps.bus, deps.store, record.session_id, record.turn_id, this.logger);
    this.transcript = new Transcript(deps.bus, record.session_id, deps.config.call_timeout_ms);
    this.gate = new GateAnswers(deps.bus, record.session_id, deps.config.policy_timeout_ms);
  }

  /** The turn as last saved (steps read it; only the driver's saves change it). */
  get record(): Readonly<TurnRecord> {
    return this.current;
  }

  get sessionId(): string {
    return this.current.session_id;
  }

  /** This delivery's epoch: unique to it among every delivery of the turn. */
  get epoch(): number {
    return this.ownEpoch;
  }

  emit(event: AgentEventInput): Promise<number> {
    return this.events.emit(event);
  }

  /** Whether run::abort asked to stop this turn; every save tells, and a read is made at most every `abort_check_ms`. */
  async abortRequested(): Promise<boolean> {
    if (this.aborted || Date.now() - this.abortCheckedAt < this.deps.config.abort_check_ms) return this.aborted;
    this.aborted = abortsTurn(await this.deps.store.read(this.sessionId), this.current.turn_id);
    this.abortCheckedAt = Date.now();
    return this.aborted;
  }

  /**
   * Call a worker the turn cannot do without (provider, session store, approval gate), waiting out
   * its absence up to `boundMs` (default `unavailable_wait_ms`); the turn shows that it waits.
   */
  patient<T>(functionId: string, call: () => Promise<T>, boundMs = this.deps.config.unavailable_wait_ms): Promise<T> {
    return waitOut(functionId, call, {
      boundMs,
      onWait: async (id, reason, givesUpAt) => {
        if (this.waitedFor.has(id)) return;
        this.waitedFor.add(id);
        this.logger.warn({ function_id: id, reason }, 'waiting for a worker the turn needs');
        await this.emit({ type: 'turn_waiting', function_id: id, reason, gives_up_at: givesUpAt });
      },
      stillWanted: async () => !(await this.abortRequested()),
    });
  }

  /** Save progress within a state (per-call checkpoints), reserving `reserve` event numbers. */
  async checkpoint(changes: Partial<TurnRecord>, reserve = 0): Promise<void> {
    await this.save({ ...this.current, ...cleared, ...changes }, reserve);
    await this.carryOut();
  }

  /**
   * The transition for what a step reports: the next state comes from the table, the record is
   * saved once with it (reserving the numbers of the events that follow), the side effects it
   * decided are carried out, and the events are written. Returns the new state.
   */
  async move(result: StepResult): Promise<TurnState> {
    const from = this.current.state;
    const to = nextState(from, result.outcome);
    if (to === from) {
      await this.checkpoint(result.changes ?? {});
      return to;
    }
    if (isTerminalTurnState(to)) return this.end(to, result);
    const record: TurnRecord = {
      ...this.current,
      ...cleared,
      ...result.changes,
      state: to,
      step: this.current.step + 1,
    };
    await this.save(record, eventsAfterEntering(to, record) + SPARE);
    await this.carryOut();
    await this.emit({ type: 'turn_state_changed', state: to, previous_state: from });
    return to;
  }

  /** The next delivery takes over from the current state (the driver's time budget is spent). */
  async handOver(): Promise<void> {
    const { session_id, turn_id, state, step } = this.current;
    await this.deps.bus.enqueue(TURN_STEP_QUEUE.queue, turnStepContract(state as TurnStepState), {
      session_id,
      turn_id,
      step,
    });
  }

  /**
   * Carry out what the last save decided, in order: append its entries, acknowledge its inbox
   * items, cancel its holds. A delivery that finds a record with these left over does it again.
   */
  async carryOut(): Promise<void> {
    const { outbox, inbox_ack, holds_to_cancel } = this.current;
    if (!outbox && !inbox_ack && !holds_to_cancel) return;
    if (outbox?.length) await this.patient(contracts.session.append.id, () => this.transcript.append(outbox));
    if (inbox_ack)
      await this.patient(contracts.session.inboxAck.id, () => this.transcript.ackInbox(inbox_ack.name, inbox_ack.ids));
    for (const function_call_id of holds_to_cancel ?? [])
      await this.deps.bus
        .call(
          contracts.approval.cancel,
          { session_id: this.sessionId, function_call_id, reason: 'the turn ended' },
          { timeoutMs: this.deps.config.policy_timeout_ms },
        )
        .catch((error: unknown) =>
          // The gate's sweep denies a hold nobody resolves; the turn is over either way.
          this.logger.warn({ err: (error as Error).message, function_call_id }, 'could not cancel a held call'),
        );
    this.uncarried = {};
  }

  /**
   * A terminal record found again (its delivery died before it finished): make sure its
   * `turn_completed` exists, exactly once — it was written under the number the terminal save
   * recorded, so one read tells.
   */
  async repairEnding(): Promise<void> {
    const record = this.current;
    if (!record.completion_seq || !record.outcome) return;
    const item = await this.deps.bus.stream.get(
      AGENT_EVENTS_STREAM,
      record.session_id,
      eventItemId(record.completion_seq),
    );
    if (item) return;
    await this.carryOut();
    await this.events.emit(completedEvent(record), record.completion_seq);
  }

  private async end(to: TurnState, result: StepResult): Promise<TurnState> {
    const completionSeq = await this.events.takeForEnding();
    const outcome = turnOutcomeOf(result.outcome);
    const changes = result.changes ?? {};
    const batch = 'batch' in changes ? changes.batch : this.current.batch;
    const left = this.uncarried;
    const record: TurnRecord = {
      ...this.current,
      ...cleared,
      ...changes,
      state: to,
      step: this.current.step + 1,
      outcome,
      ...(result.reason ? { reason: result.reason } : {}),
      ...(result.error ? { error: result.error } : {}),
      completion_seq: completionSeq,
      // Whatever batch is still open is closed: every call gets a result, no hold outlives the turn.
      outbox: [
        ...(left.outbox ?? []),
        ...(changes.outbox ?? []),
        ...(batch ? this.closeBatch(batch, outcome === 'aborted') : []),
      ],
      ...(left.inbox_ack ? { inbox_ack: left.inbox_ack } : {}),
      batch: undefined,
      holds_to_cancel: [
        ...(left.holds_to_cancel ?? []),
        ...(batch?.calls ?? []).filter((c) => c.status === 'held').map((c) => c.function_call_id),
      ],
    };
    await this.save(record, 0);
    await this.carryOut();
    // The ending is told once, by turn_completed (its status is the final state).
    await this.events.emit(completedEvent(record), completionSeq);
    return to;
  }

  /** Remember the calls a save of this delivery moved to `triggered` or `held`. */
  private noteMarks(before: TurnRecord, after: TurnRecord): void {
    const previous = new Map((before.batch?.calls ?? []).map((c) => [c.function_call_id, c.status]));
    for (const call of after.batch?.calls ?? []) {
      const was = previous.get(call.function_call_id);
      if (call.status === 'triggered' && was !== 'triggered') this.triggeredHere.add(call.function_call_id);
      if (call.status === 'held' && was !== 'held') this.heldHere.add(call.function_call_id);
    }
  }

  /**
   * The assistant message of an open batch and a result for each call, in order: its own when it
   * has one, "interrupted" when it may have run, "aborted before it ran" when it surely did not.
   */
  closeBatch(batch: Batch, aborted: boolean): OutboxEntry[] {
    const why = aborted ? 'the turn was stopped' : 'the turn ended';
    const mayHaveRun = (id: string) => !this.triggeredHere.has(id) || this.started.has(id);
    const calls = batch.calls.map((call) =>
      call.status === 'done'
        ? call
        : {
            ...call,
            status: 'done' as const,
            result:
              call.status === 'triggered' && mayHaveRun(call.function_call_id)
                ? errorResult(INTERRUPTED)
                : errorResult(`aborted: ${why} before this call ran`),
          },
    );
    return [
      ...(batch.message ? [assistantEntry(batch.assistant_entry_id, batch.message)] : []),
      ...resultEntries(this.current.turn_id, calls),
    ];
  }

  private async save(record: TurnRecord, reserve: number): Promise<void> {
    const saved = await this.deps.store.save(this.ownEpoch, record, {
      reserve,
      stale: this.copies,
      upgrade: this.upgrade,
    });
    this.noteMarks(this.current, record);
    this.current = record;
    this.uncarried = decidedBy(record);
    this.copies = saved.copies;
    this.upgrade = [];
    this.aborted ||= saved.aborted;
    this.abortCheckedAt = Date.now();
    if (reserve > 0) this.events.grant(saved.reserved);
  }
}

const decidedBy = ({ outbox, inbox_ack, holds_to_cancel }: TurnRecord): Partial<TurnRecord> => ({
  ...(outbox ? { outbox } : {}),
  ...(inbox_ack ? { inbox_ack } : {}),
  ...(holds_to_cancel ? { holds_to_cancel } : {}),
});

/** Fields that describe what one save decided: never carried into the next save. */
const cleared: Partial<TurnRecord> = { outbox: undefined, inbox_ack: undefined, holds_to_cancel: undefined };

function completedEvent(record: TurnRecord): AgentEventInput {
  return {
    type: 'turn_completed',
    status: record.outcome!,
    ...(record.reason ? { reason: record.reason } : {}),
    ...(record.error ? { error: record.error } : {}),
    usage: record.usage,
    ...(record.cost_usd !== undefined ? { cost_usd: record.cost_usd } : {}),
    ...(record.cost_micro_usd !== undefined ? { cost_micro_usd: record.cost_micro_usd } : {}),
  };
}
