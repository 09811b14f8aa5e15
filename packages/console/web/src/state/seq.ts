/**
 * Events in sequence order, each once. Agent events carry a per-session `seq`; live pushes may
 * arrive twice (a re-read overlapping delivery) or out of order. `push` hands out what is ready,
 * in order; events ahead of a missing one wait, and `gap` says so (the caller re-reads the
 * stored events, or gives up on the missing ones with `skipGap`).
 */
export class SeqBuffer<E extends { seq: number }> {
  private held = new Map<number, E>();

  constructor(public last = 0) {}

  push(events: Iterable<E>): E[] {
    for (const event of events) if (event.seq > this.last) this.held.set(event.seq, event);
    return this.drain();
  }

  get gap(): boolean {
    return this.held.size > 0;
  }

  skipGap(): E[] {
    if (this.held.size === 0) return [];
    this.last = Math.min(...this.held.keys()) - 1;
    return this.drain();
  }

  private drain(): E[] {
    const ready: E[] = [];
    for (let next = this.held.get(this.last + 1); next; next = this.held.get(this.last + 1)) {
      this.held.delete(next.seq);
      this.last = next.seq;
      ready.push(next);
    }
    return ready;
  }
}
