/**
 * Invocations in flight towards worker-owned functions, keyed by invocation id. The engine sets
 * no timeout on them: an entry ends with the target's `invocationresult`, or when the target
 * or the caller disconnects (`halt`).
 */

import type { WorkerConnection } from './connection.js';
import type { ErrorBody } from './protocol/frames.js';

/** Who waits for the result. */
export type ResultSink =
  | { kind: 'worker'; caller: WorkerConnection }
  | { kind: 'internal'; resolve: (result: unknown) => void; reject: (error: ErrorBody) => void }
  | { kind: 'discard' };

export interface PendingInvocation {
  id: string;
  functionId: string;
  target: WorkerConnection;
  sink: ResultSink;
}

export const INVOCATION_STOPPED: ErrorBody = { code: 'invocation_stopped', message: 'Invocation stopped' };

export class InvocationTable {
  private readonly inflight = new Map<string, PendingInvocation>();

  get size(): number {
    return this.inflight.size;
  }

  add(p: PendingInvocation): void {
    this.inflight.set(p.id, p);
  }

  /** Take the entry for a result; only the target it was sent to may answer it. */
  take(id: string, from: WorkerConnection): PendingInvocation | undefined {
    const p = this.inflight.get(id);
    if (!p || p.target !== from) return undefined;
    this.inflight.delete(id);
    return p;
  }

  /** How many invocations `conn` is currently handling (for `engine::workers::list`). */
  activeFor(conn: WorkerConnection): number {
    let n = 0;
    for (const p of this.inflight.values()) if (p.target === conn) n++;
    return n;
  }

  /** Whether `conn` is the target or the waiting caller of any invocation. */
  involves(conn: WorkerConnection): boolean {
    for (const p of this.inflight.values())
      if (p.target === conn || (p.sink.kind === 'worker' && p.sink.caller === conn)) return true;
    return false;
  }

  /**
   * Halt everything `conn` was the target or the caller of. Returns the invocations whose
   * target went away, so their callers can be told `invocation_stopped`.
   */
  halt(conn: WorkerConnection): PendingInvocation[] {
    const stopped: PendingInvocation[] = [];
    for (const [id, p] of this.inflight) {
      if (p.target === conn) {
        this.inflight.delete(id);
        stopped.push(p);
      } else if (p.sink.kind === 'worker' && p.sink.caller === conn) {
        // The caller left: the target keeps running, its late result finds no entry and is dropped.
        this.inflight.delete(id);
      }
    }
    return stopped;
  }

  /** Engine shutdown: fail every internal waiter. */
  drain(): PendingInvocation[] {
    const all = [...this.inflight.values()];
    this.inflight.clear();
    return all;
  }
}
