/**
 * Socket hygiene for one WebSocket listener: every TCP connection is tracked from accept to
 * close, so that
 * - a socket that never completes its upgrade is closed after `handshakeTimeoutMs`;
 * - every upgraded WebSocket is pinged, and one that sent nothing (not even a pong) for
 *   `idleTimeoutMs` is closed — this is what ends half-open connections;
 * - the number of open sockets stays under `maxConnections`: at the limit, a new connection
 *   evicts the oldest socket that does no work (an unfinished handshake first, then an upgraded
 *   socket its owner reports as idle, e.g. a worker that registered nothing), or is refused when
 *   every socket is in use. Silent sockets can therefore never lock workers out.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';

export interface SocketGuardOptions {
  handshakeTimeoutMs: number;
  pingIntervalMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
}

interface Tracked {
  socket: Socket;
  acceptedAtMs: number;
  handshakeTimer?: NodeJS.Timeout;
  ws?: WebSocket;
  lastSeenMs: number;
  /** Whether this upgraded socket may be evicted to make room (asked at eviction time). */
  evictable?: () => boolean;
}

export class SocketGuard {
  private readonly tracked = new Map<Socket, Tracked>();
  private readonly pinger: NodeJS.Timeout | undefined;

  constructor(
    server: Server,
    private readonly options: SocketGuardOptions,
    private readonly logger: Logger,
  ) {
    server.on('connection', (socket: Socket) => this.accept(socket));
    const tick = Math.min(options.pingIntervalMs || Infinity, options.idleTimeoutMs || Infinity);
    if (Number.isFinite(tick)) {
      this.pinger = setInterval(() => this.sweep(), tick);
      this.pinger.unref();
    }
  }

  get size(): number {
    return this.tracked.size;
  }

  /** The socket became a WebSocket: stop its handshake timer and start watching it for liveness. */
  upgraded(socket: Socket, ws: WebSocket, evictable: () => boolean): void {
    const t = this.tracked.get(socket);
    if (!t) return;
    clearTimeout(t.handshakeTimer);
    t.handshakeTimer = undefined;
    t.ws = ws;
    t.evictable = evictable;
    t.lastSeenMs = Date.now();
    const seen = () => {
      t.lastSeenMs = Date.now();
    };
    ws.on('message', seen);
    ws.on('pong', seen);
    ws.on('ping', seen);
  }

  close(): void {
    clearInterval(this.pinger);
    for (const t of this.tracked.values()) {
      clearTimeout(t.handshakeTimer);
      if (t.ws) t.ws.terminate();
      else t.socket.destroy();
    }
  }

  private accept(socket: Socket): void {
    if (this.tracked.size >= this.options.maxConnections && !this.evictOne()) {
      this.logger.warn({ max_connections: this.options.maxConnections }, 'connection refused: every socket is busy');
      socket.destroy();
      return;
    }
    const now = Date.now();
    const t: Tracked = { socket, acceptedAtMs: now, lastSeenMs: now };
    t.handshakeTimer = setTimeout(() => {
      this.logger.debug({ remote: socket.remoteAddress }, 'closing a socket that did not complete its handshake');
      socket.destroy();
    }, this.options.handshakeTimeoutMs);
    t.handshakeTimer.unref();
    this.tracked.set(socket, t);
    socket.once('close', () => {
      clearTimeout(t.handshakeTimer);
      this.tracked.delete(socket);
    });
  }

  /** Close the oldest socket doing no work; false when there is none. */
  private evictOne(): boolean {
    let victim: Tracked | undefined;
    for (const t of this.tracked.values()) {
      if (t.ws !== undefined) continue;
      if (!victim || t.acceptedAtMs < victim.acceptedAtMs) victim = t;
    }
    if (!victim)
      for (const t of this.tracked.values()) {
        if (t.ws === undefined || !t.evictable?.()) continue;
        if (!victim || t.lastSeenMs < victim.lastSeenMs) victim = t;
      }
    if (!victim) return false;
    this.logger.warn({ remote: victim.socket.remoteAddress }, 'connection limit reached: evicting an idle socket');
    this.tracked.delete(victim.socket);
    clearTimeout(victim.handshakeTimer);
    if (victim.ws) victim.ws.terminate();
    else victim.socket.destroy();
    return true;
  }

  /** Ping every WebSocket; close those silent for longer than the idle timeout. */
  private sweep(): void {
    const now = Date.now();
    for (const t of this.tracked.values()) {
      const ws = t.ws;
      if (!ws) continue;
      if (this.options.idleTimeoutMs > 0 && now - t.lastSeenMs > this.options.idleTimeoutMs) {
        this.logger.info(
          { remote: t.socket.remoteAddress },
          'closing a silent WebSocket (no pong within the idle timeout)',
        );
        ws.terminate();
        continue;
      }
      if (this.options.pingIntervalMs > 0 && ws.readyState === ws.OPEN) ws.ping();
    }
  }
}
