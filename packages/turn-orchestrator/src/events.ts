import { type AgentEventInput, type Bus, type Logger, redact } from '@iii-harness/runtime';
import { AGENT_EVENTS_STREAM, type AgentEvent } from '@iii-harness/types';
import type { Reserved, TurnStore } from './store.js';

/** Stream item id of an agent event: its zero-padded number, so ids sort in emission order. */
export const eventItemId = (seq: number) => String(seq).padStart(12, '0');

/** Numbers taken at once when a step emits more events than its save reserved. */
const TOP_UP = 16;

/**
 * The agent events of one delivery (what runtime's AgentEvents does for other emitters, minus its
 * round trip per event). Numbers come from reservations made by the turn record's saves; writes
 * are pipelined — sent without waiting — and drained before the delivery ends. Unused reserved
 * numbers are gaps: `seq` only promises order.
 */
export class EventLog {
  private next = 1;
  private last = 0;
  private readonly writes: Array<Promise<unknown>> = [];
  private failure?: unknown;

  constructor(
    private readonly bus: Bus,
    private readonly store: TurnStore,
    private readonly sessionId: string,
    private readonly turnId: string,
    private readonly logger: Logger,
  ) {}

  /** Numbers a save reserved replace what is left of the previous reservation. */
  grant(reserved: Reserved): void {
    this.next = reserved.first;
    this.last = reserved.last;
  }

  /**
   * Another emitter (the approval gate) wrote events after our reservation: numbers still held
   * would sort before its events although ours come later, so they are given up.
   */
  release(): void {
    this.next = this.last + 1;
  }

  /** Write an event with the next reserved number (reserving more when none is left). */
  async emit(event: AgentEventInput, seq?: number): Promise<number> {
    const number = seq ?? (await this.take());
    // UIs show these items: secrets are masked on the way in, by key name and by value.
    const item = redact({
      ...event,
      session_id: this.sessionId,
      turn_id: this.turnId,
      seq: number,
      timestamp: Date.now(),
    }) as AgentEvent;
    this.writes.push(
      this.bus.stream.set(AGENT_EVENTS_STREAM, this.sessionId, eventItemId(number), item).catch((error: unknown) => {
        this.failure ??= error;
        this.logger.warn({ err: (error as Error).message, event: event.type, seq: number }, 'agent event not written');
      }),
    );
    return number;
  }

  /**
   * The number of `turn_completed`, taken before the terminal save so that the save can record
   * where it goes (written exactly once). Saves keep one spare for it.
   */
  async takeForEnding(): Promise<number> {
    return this.take();
  }

  /** Wait for every write so far; rejects if one of them failed (the delivery is then retried). */
  async drain(): Promise<void> {
    while (this.writes.length) await Promise.all(this.writes.splice(0));
    const failure = this.failure;
    this.failure = undefined;
    if (failure) throw failure;
  }

  private async take(): Promise<number> {
    // The same reservation serves concurrent emitters; a shortage is topped up once.
    if (this.next > this.last) this.grant(await this.store.reserve(this.sessionId, TOP_UP));
    return this.next++;
  }
}
