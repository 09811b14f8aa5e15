import type { AgentEventInput, AgentEvents, Bus, Logger } from '@iii-harness/runtime';
import { type ErrorEnvelope, TURN_STEP_QUEUE, type TurnOutcome, type TurnState } from '@iii-harness/types';
import type { Config } from './config.js';
import { abortsTurn, isWorking, type TurnRecord, type TurnStore } from './record.js';
import { StepCache } from './step-cache.js';

/** What every step needs from the worker. */
export interface Deps {
  bus: Bus;
  logger: Logger;
  config: Config;
  store: TurnStore;
  events: AgentEvents;
}

export interface StepJob {
  session_id: string;
  turn_id: string;
  /** The record's `step` when the job was enqueued; absent for wake-ups of a parked turn. */
  step?: number;
  wake?: boolean;
}

/** A step's working copy of the turn, with the only ways to change it durably. */
export class Turn {
  /** Answers reused for the rest of this step (settings, hook subscribers, outright denials). */
  readonly cache: StepCache;
  /** The record was just read (or saved) with its abort flag: no need to ask again before this. */
  private abortCheckedAt = Date.now();
  private aborted: boolean;

  constructor(
    readonly deps: Deps,
    readonly record: TurnRecord,
  ) {
    this.cache = new StepCache(deps.bus, record.session_id, deps.config.policy_timeout_ms);
    this.aborted = abortsTurn(record, record.turn_id);
  }

  get sessionId(): string {
    return this.record.session_id;
  }

  get logger(): Logger {
    return this.deps.logger;
  }

  emit(event: AgentEventInput): Promise<unknown> {
    return this.deps.events.emit(this.record.session_id, this.record.turn_id, event);
  }

  /** Persist the record without moving (per-call checkpoints). */
  async checkpoint(): Promise<void> {
    await this.save();
  }

  /** Every save also tells whether run::abort has flagged the turn meanwhile. */
  private async save(): Promise<void> {
    const aborted = await this.deps.store.save(this.record);
    this.aborted ||= aborted;
    this.abortCheckedAt = Date.now();
  }

  /** Whether run::abort asked to stop this turn; read again at most every 100 ms within a step. */
  async abortRequested(): Promise<boolean> {
    if (this.aborted || Date.now() - this.abortCheckedAt < 100) return this.aborted;
    this.aborted = await this.deps.store.abortRequested(this.record);
    this.abortCheckedAt = Date.now();
    return this.aborted;
  }

  /**
   * Transition: save the record with the next state and step, then enqueue that step. A crash
   * between the two leaves a saved working state with no job; the recovery sweep re-enqueues it
   * (a duplicate job is harmless: the stale-step guard acks it).
   */
  async moveTo(next: TurnState): Promise<void> {
    const previous = this.record.state;
    this.record.state = next;
    this.record.step += 1;
    await this.save();
    await this.emit({ type: 'turn_state_changed', state: next, previous_state: previous });
    if (isWorking(next)) await enqueueStep(this.deps.bus, this.record);
  }

  /** End the turn: terminal state, one `turn_completed` (a later abort request names this turn and is ignored). */
  async finish(outcome: TurnOutcome, reason?: string, error?: ErrorEnvelope): Promise<void> {
    this.record.outcome = outcome;
    if (reason) this.record.reason = reason;
    if (error) this.record.error = error;
    await this.moveTo(outcome === 'failed' ? 'failed' : 'stopped');
    await this.emit({
      type: 'turn_completed',
      status: outcome,
      ...(reason ? { reason } : {}),
      ...(error ? { error } : {}),
      usage: this.record.usage,
      ...(this.record.cost_usd !== undefined ? { cost_usd: this.record.cost_usd } : {}),
    });
  }
}

/** Enqueue the step for the record's current state (FIFO per session on `turn-step`). */
export async function enqueueStep(bus: Bus, record: TurnRecord, wake = false): Promise<void> {
  const job: StepJob = {
    session_id: record.session_id,
    turn_id: record.turn_id,
    ...(wake ? { wake: true } : { step: record.step }),
  };
  await bus.enqueue(TURN_STEP_QUEUE.queue, `turn::${record.state}`, job);
}
