/**
 * One worker WebSocket. It owns the two ordering guarantees of the real engine: inbound frames
 * from one connection are handled strictly one after another (a handler that returns a promise
 * holds back the next frame), and outbound frames leave in the order they were sent.
 *
 * Outbound frames are coalesced per tick: the first send corks the TCP socket and the uncork
 * runs once the current call stack is done, so results produced together (100 concurrent calls
 * answered from one read) leave in one `writev` instead of one each. A send costs ~25 µs of
 * kernel time on a VM; the uncork adds no waiting beyond the end of the current task.
 *
 * Outbound data is bounded. Above a high-water mark the connection stops reading its inbound
 * frames until the socket drains (a client that does not read its replies stops being served);
 * above a hard cap the connection is closed, because replies to calls already running cannot
 * be held back; a paused connection that reads nothing for the stall timeout is closed too.
 * A single frame larger than the cap is still sent when nothing else is queued.
 */
import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import type { WorkerSession } from './rbac/policy.js';

/** The part of the TCP socket under the WebSocket that coalescing and back-pressure need. */
export interface TransportSocket {
  cork(): void;
  uncork(): void;
  pause(): unknown;
  resume(): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

/** Outbound limits of one connection (see SecurityOptions). */
export interface OutboundLimits {
  /** Unsent bytes above which inbound frames wait until the socket drains. */
  highWaterBytes: number;
  /** Unsent bytes above which the connection is closed. */
  maxBytes: number;
  /** A paused connection whose unsent data did not shrink for this long is closed (ms). */
  stallTimeoutMs: number;
}

const NO_LIMITS: OutboundLimits = {
  highWaterBytes: Number.POSITIVE_INFINITY,
  maxBytes: Number.POSITIVE_INFINITY,
  stallTimeoutMs: 0,
};

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
  /** RBAC / middleware rules of the listener it came in on; undefined on a plain listener. */
  session: WorkerSession | undefined;
  /** Decoded frames received so far (a connection that never sent one is an idle socket). */
  framesHandled = 0;
  /** Set once cleanup ran (disconnect or reattach eviction). */
  cleanedUp = false;
  private closed = false;
  private busy = false;
  private backlog: Array<[RawData, boolean]> = [];
  private backlogHead = 0;
  private idleWaiters: Array<() => void> = [];
  private corked = false;
  private inboundPaused = false;
  private stallTimer: NodeJS.Timeout | undefined;
  /** Set when the connection was closed for exceeding its outbound cap. */
  overflowed = false;

  constructor(
    readonly ws: WebSocket,
    readonly ipAddress: string,
    private readonly handle: FrameHandler,
    private readonly onDone: (conn: WorkerConnection) => void,
    /** The socket `ws` writes to; without it every frame is written on its own and nothing is bounded. */
    private readonly socket?: TransportSocket,
    private readonly limits: OutboundLimits = NO_LIMITS,
    private readonly onOverflow?: (conn: WorkerConnection, bufferedBytes: number) => void,
  ) {}

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Queue a text frame to the worker; silently dropped once the socket is gone. */
  send(text: string): void {
    if (this.closed) return;
    const socket = this.socket;
    if (socket === undefined) {
      this.ws.send(text);
      return;
    }
    const before = this.ws.bufferedAmount;
    if (!this.corked) {
      this.corked = true;
      socket.cork();
      process.nextTick(this.uncork);
    }
    this.ws.send(text);
    const after = this.ws.bufferedAmount;
    if (after > this.limits.maxBytes && before > 0) this.overflow(after);
    else if (after > this.limits.highWaterBytes && !this.inboundPaused) this.pauseInbound(socket);
  }

  /** The client stopped reading: drop what is queued for it and close (cleanup runs on close). */
  private overflow(bufferedBytes: number): void {
    clearInterval(this.stallTimer);
    this.overflowed = true;
    this.onOverflow?.(this, bufferedBytes);
    this.backlog = [];
    this.backlogHead = 0;
    this.ws.terminate();
  }

  /** Stop taking new work from a client that is not reading its replies, until its socket drains. */
  private pauseInbound(socket: TransportSocket): void {
    this.inboundPaused = true;
    socket.pause();
    if (this.limits.stallTimeoutMs > 0) {
      let last = this.ws.bufferedAmount;
      this.stallTimer = setInterval(() => {
        const now = this.ws.bufferedAmount;
        if (now >= last) this.overflow(now);
        last = now;
      }, this.limits.stallTimeoutMs);
      this.stallTimer.unref();
    }
    socket.once('drain', () => {
      clearInterval(this.stallTimer);
      this.inboundPaused = false;
      socket.resume();
      if (!this.busy) this.drain();
    });
  }

  /** Flush what this tick queued, in one write (cork/uncork nest with ws's own per-frame cork). */
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket!.uncork();
  };

  receive(data: RawData, isBinary: boolean): void {
    if (this.cleanedUp) return;
    if (this.busy || this.inboundPaused) {
      this.backlog.push([data, isBinary]);
      return;
    }
    this.process(data, isBinary);
  }

  /** The socket closed: finish the frames already read, then let the router clean up (once). */
  markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.stallTimer);
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
    while (!this.busy && !this.inboundPaused && !this.cleanedUp && this.backlogHead < this.backlog.length) {
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
