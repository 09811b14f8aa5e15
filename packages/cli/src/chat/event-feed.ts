import type { AgentEvent } from '@iii-harness/types';

/**
 * Agent events in sequence order, each exactly once. Events carry a per-session `seq`; the
 * buffer hands them out strictly in order, drops anything at or below what it already handed
 * out (a redelivery, or a backfill that overlaps live delivery), and holds events that arrive
 * ahead of a missing one until the gap is filled or given up.
 */
export class SeqBuffer {
  private held = new Map<number, AgentEvent>();

  constructor(public lastSeq = 0) {}

  /** Add events (any order, duplicates allowed); returns those now ready, in order. */
  push(events: Iterable<AgentEvent>): AgentEvent[] {
    for (const event of events) if (event.seq > this.lastSeq) this.held.set(event.seq, event);
    return this.drain();
  }

  /** Whether events wait behind a missing one. */
  get gap(): boolean {
    return this.held.size > 0;
  }

  /** Give up on the missing events: hand out what is held, in order, from the lowest. */
  skipGap(): AgentEvent[] {
    if (this.held.size === 0) return [];
    this.lastSeq = Math.min(...this.held.keys()) - 1;
    return this.drain();
  }

  private drain(): AgentEvent[] {
    const ready: AgentEvent[] = [];
    for (let next = this.held.get(this.lastSeq + 1); next; next = this.held.get(this.lastSeq + 1)) {
      this.held.delete(next.seq);
      this.lastSeq = next.seq;
      ready.push(next);
    }
    return ready;
  }
}

export interface FeedSource {
  /** Start live delivery of one session's events; returns a stop handle. */
  follow(sessionId: string, onEvent: (event: AgentEvent) => void): { stop(): void };
  /** Everything stored for the session (any order). */
  list(sessionId: string): Promise<AgentEvent[]>;
}

export interface EventFeedOptions {
  /** How long events may wait behind a missing one before the feed re-reads the stream. */
  gapCheckMs?: number;
  /** After this long, a still-missing event is given up (its emitter died between numbering and writing it). */
  gapGiveUpMs?: number;
  onError?: (error: unknown) => void;
  /** The stored stream is behind what we showed: the engine lost its data (e.g. it runs with --memory). */
  onReset?: () => void;
}

/**
 * One session's agent events, live and complete: a stream trigger delivers them as they are
 * written, and the stored stream fills in whatever the trigger missed — events written before
 * we followed, while the engine restarted, or delivered out of order. `resync()` after a
 * reconnect re-reads the stream.
 */
export class EventFeed {
  private buffer: SeqBuffer;
  private handle?: { stop(): void };
  private gapTimer?: NodeJS.Timeout;
  private gapSince?: number;
  private stopped = false;
  private readonly gapCheckMs: number;
  private readonly gapGiveUpMs: number;

  constructor(
    private readonly source: FeedSource,
    readonly sessionId: string,
    private readonly deliver: (events: AgentEvent[]) => void,
    fromSeq: number,
    private readonly options: EventFeedOptions = {},
  ) {
    this.buffer = new SeqBuffer(fromSeq);
    this.gapCheckMs = options.gapCheckMs ?? 300;
    this.gapGiveUpMs = options.gapGiveUpMs ?? 2_000;
  }

  get lastSeq(): number {
    return this.buffer.lastSeq;
  }

  /** Follow first, then read what is stored: nothing written in between can be missed. */
  async start(): Promise<void> {
    this.handle = this.source.follow(this.sessionId, (event) => this.accept([event]));
    await this.resync();
  }

  async resync(): Promise<void> {
    if (this.stopped) return;
    try {
      const stored = await this.source.list(this.sessionId);
      const highest = stored.reduce((max, e) => Math.max(max, e.seq), 0);
      if (highest < this.buffer.lastSeq) {
        this.buffer = new SeqBuffer(0);
        this.options.onReset?.();
      }
      this.accept(stored);
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.gapTimer);
    this.handle?.stop();
  }

  private accept(events: AgentEvent[]): void {
    if (this.stopped) return;
    const ready = this.buffer.push(events.filter((e) => e.session_id === this.sessionId));
    if (ready.length) this.deliver(ready);
    if (this.buffer.gap) this.watchGap();
    else {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
      this.gapSince = undefined;
    }
  }

  private watchGap(): void {
    this.gapSince ??= Date.now();
    if (this.gapTimer) return;
    this.gapTimer = setTimeout(async () => {
      this.gapTimer = undefined;
      await this.resync();
      if (!this.buffer.gap || this.stopped) return;
      if (Date.now() - (this.gapSince ?? Date.now()) >= this.gapGiveUpMs) {
        this.gapSince = undefined;
        const ready = this.buffer.skipGap();
        if (ready.length) this.deliver(ready);
        if (this.buffer.gap) this.watchGap();
      } else this.watchGap();
    }, this.gapCheckMs);
  }
}
