/**
 * One worker WebSocket. It owns the two ordering guarantees of the real engine: inbound frames
 * from one connection are handled strictly one after another (a handler that returns a promise
 * holds back the next frame), and outbound frames leave in the order they were sent.
 *
 * Outbound frames are coalesced per tick: the first send corks the TCP socket and the uncork
 * runs once the current call stack is done, so results produced together (100 concurrent calls
 * answered from one read) leave in one `writev` instead of one each. A send costs ~25 µs of
 * kernel time on a VM; the uncork adds no waiting beyond the end of the current task.
 */
import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';

/** The part of the TCP socket under the WebSocket that coalescing needs. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** What a worker reported through `engine::workers::register`. */
export interface WorkerInfo {
  name?: string;
  description?: string;
  runtime?: string;
  version?: string;
  os?: string;
  pid?: number;
  isolation?: string | null;
  telemetry?: unknown;
}

/** Handles one raw frame; returning a promise pauses this connection's inbound queue until it settles. */
export type FrameHandler = (conn: WorkerConnection, data: RawData, isBinary: boolean) => void | Promise<void>;

export class WorkerConnection {
  readonly id = randomUUID();
  readonly reattachToken = randomUUID();
  readonly connectedAtMs = Date.now();
  info: WorkerInfo = {};
  /** Set once cleanup ran (disconnect or reattach eviction). */
  cleanedUp = false;
  private closed = false;
  private busy = false;
  private backlog: Array<[RawData, boolean]> = [];
  private backlogHead = 0;
  private idleWaiters: Array<() => void> = [];
  private corked = false;

  constructor(
    readonly ws: WebSocket,
    readonly ipAddress: string,
    private readonly handle: FrameHandler,
    private readonly onDone: (conn: WorkerConnection) => void,
    /** The socket `ws` writes to; without it every frame is written on its own. */
    private readonly socket?: Corkable,
  ) {}

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Queue a text frame to the worker; silently dropped once the socket is gone. */
  send(text: string): void {
    if (this.closed) return;
    if (!this.corked && this.socket !== undefined) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    this.ws.send(text);
  }

  /** Flush what this tick queued, in one write (cork/uncork nest with ws's own per-frame cork). */
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket!.uncork();
  };

  receive(data: RawData, isBinary: boolean): void {
    if (this.cleanedUp) return;
    if (this.busy) {
      this.backlog.push([data, isBinary]);
      return;
    }
    this.process(data, isBinary);
  }

  /** The socket closed: finish the frames already read, then let the router clean up (once). */
  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.busy) this.onDone(this);
  }

  /** Reattach eviction: drop unread frames and close the socket without waiting for it. */
  evict(): void {
    this.backlog = [];
    this.backlogHead = 0;
    this.closed = true;
    this.ws.terminate();
  }

  /** Resolves once the frame being handled (if any) has finished. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private process(data: RawData, isBinary: boolean): void {
    let pending: void | Promise<void>;
    try {
      pending = this.handle(this, data, isBinary);
    } catch {
      pending = undefined; // the handler logs its own failures; one bad frame never stops the loop
    }
    if (pending) {
      this.busy = true;
      pending.then(
        () => this.drain(),
        () => this.drain(),
      );
    }
  }

  private drain(): void {
    this.busy = false;
    while (!this.busy && !this.cleanedUp && this.backlogHead < this.backlog.length) {
      const [data, isBinary] = this.backlog[this.backlogHead]!;
      this.backlog[this.backlogHead++] = undefined as never;
      this.process(data, isBinary);
    }
    if (this.backlogHead >= this.backlog.length) {
      this.backlog = [];
      this.backlogHead = 0;
    }
    if (this.busy) return;
    for (const wake of this.idleWaiters.splice(0)) wake();
    if (this.closed) this.onDone(this);
  }
}
