import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { formatZodIssues, HarnessError, type Logger } from '@iii-harness/runtime';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AllowedFunction, CallContext } from './allowlist.js';
import type { LiveHub, PageSink } from './live.js';
import {
  type EngineStatus,
  type Features,
  type PageFrame,
  pageFrame,
  type ServerFrame,
  type WireError,
} from './protocol.js';
import type { AccessGuard } from './security.js';

export interface GatewayOptions {
  guard: AccessGuard;
  allowlist: Map<string, AllowedFunction>;
  hub: LiveHub;
  /** Undefined while the console is not connected to the engine. */
  context: () => CallContext | undefined;
  engine: () => EngineStatus;
  features: () => Features;
  logger: Logger;
  version: string;
  limits: { max_frame_bytes: number; max_pages: number; max_inflight_per_page: number; max_buffered_bytes: number };
}

/** Frames a page may get wrong before it is disconnected (a bug or a probe, either way). */
const MAX_BAD_FRAMES = 20;

/** What a log line may show of an id a page sent: printable, short. */
const printable = (text: string) => text.replace(/[^\x20-\x7e]/g, '?').slice(0, 120);

function toWire(error: unknown, logger: Logger, fn: string): WireError {
  if (error instanceof HarnessError)
    return { code: error.code, message: error.message, ...(error.reason ? { reason: error.reason } : {}) };
  const ref = randomUUID().slice(0, 8);
  logger.error({ err: error, fn, ref }, 'console call failed unexpectedly');
  return { code: 'internal', message: `internal error (ref ${ref})` };
}

/**
 * The page's WebSocket (`/ws`). The upgrade is refused unless the request passed the access
 * guard (host, token) and comes from the console's own origin. Each frame is a call (checked
 * against the allowlist, then the function's input schema) or a follow list; replies and live
 * pushes go back as JSON frames.
 */
export class Gateway {
  private readonly wss: WebSocketServer;

  constructor(private readonly options: GatewayOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.limits.max_frame_bytes });
  }

  get pages(): number {
    return this.options.hub.size;
  }

  /** Decide an upgrade; refused ones get a plain HTTP status and a log line. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = this.refusal(req);
    if (!refusal) {
      this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
      return;
    }
    const [status, text, why] = refusal;
    this.options.logger.warn(
      { remote: req.socket.remoteAddress, origin: req.headers.origin ?? null, why },
      'page connection refused',
    );
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  /** Why an upgrade is refused (status, status text, log reason), or nothing. */
  private refusal(req: IncomingMessage): [number, string, string] | undefined {
    const { guard, hub, limits } = this.options;
    if (!guard.hostAllowed(req)) return [421, 'Misdirected Request', 'host'];
    if (!guard.authorized(req)) return [401, 'Unauthorized', 'token'];
    if (!guard.originAllowed(req)) return [403, 'Forbidden', 'origin'];
    if (hub.size >= limits.max_pages) return [503, 'Service Unavailable', 'too many pages'];
    return undefined;
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const page = new PageConnection(ws, this.options, req.socket.remoteAddress ?? 'unknown');
    this.options.hub.add(page);
    ws.on('close', () => this.options.hub.remove(page));
    page.start();
  }

  close(): void {
    for (const client of this.wss.clients) client.close(1001, 'console shutting down');
    this.wss.close();
  }
}

class PageConnection implements PageSink {
  readonly id = randomUUID().slice(0, 8);
  private followed = new Set<string>();
  private inflight = 0;
  private badFrames = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly options: GatewayOptions,
    private readonly remote: string,
  ) {}

  start(): void {
    const { logger, allowlist, version } = this.options;
    logger.info({ page: this.id, remote: this.remote }, 'page connected');
    this.ws.on('message', (data, isBinary) => this.onMessage(isBinary ? '' : String(data)));
    this.ws.on('close', () => logger.info({ page: this.id }, 'page disconnected'));
    this.ws.on('error', (error) => logger.warn({ page: this.id, err: error.message }, 'page socket error'));
    this.send({
      t: 'hello',
      version,
      allow: [...allowlist.keys()],
      engine: this.options.engine(),
      features: this.options.features(),
    });
  }

  follows(sessionId: string): boolean {
    return this.followed.has(sessionId);
  }

  send(frame: ServerFrame): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    // A page that stopped reading would hold the server's memory: drop it; it reconnects and re-reads.
    if (this.ws.bufferedAmount > this.options.limits.max_buffered_bytes) {
      this.options.logger.warn({ page: this.id }, 'page is not reading its pushes; disconnecting it');
      this.ws.terminate();
      return;
    }
    this.ws.send(JSON.stringify(frame));
  }

  private onMessage(text: string): void {
    let frame: PageFrame;
    try {
      const parsed = pageFrame.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(formatZodIssues(parsed.error));
      frame = parsed.data;
    } catch (error) {
      this.options.logger.warn({ page: this.id, problem: printable((error as Error).message) }, 'bad frame from page');
      if (++this.badFrames > MAX_BAD_FRAMES) this.ws.close(1008, 'too many bad frames');
      return;
    }
    if (frame.t === 'follow') this.followed = new Set(frame.session_ids);
    else void this.call(frame.id, frame.fn, frame.payload);
  }

  private async call(id: number, fn: string, payload: unknown): Promise<void> {
    const { allowlist, logger, limits } = this.options;
    const fail = (error: WireError) => this.send({ t: 'reply', id, ok: false, error });
    const entry = allowlist.get(fn);
    if (!entry) {
      logger.warn({ page: this.id, remote: this.remote, fn: printable(fn) }, 'refused: not on the console allowlist');
      return fail({
        code: 'denied',
        reason: 'not_allowed',
        message: `${printable(fn)} is not available to the console`,
      });
    }
    const input = entry.input.safeParse(payload ?? {});
    if (!input.success) return fail({ code: 'invalid_payload', message: formatZodIssues(input.error) });
    const context = this.options.context();
    if (!context) return fail({ code: 'unavailable', message: 'the console is not connected to the engine' });
    if (this.inflight >= limits.max_inflight_per_page)
      return fail({ code: 'unavailable', reason: 'too_many_calls', message: 'too many calls in flight' });
    this.inflight++;
    const started = Date.now();
    try {
      const value = await entry.run(input.data, context);
      this.send({ t: 'reply', id, ok: true, value: value ?? null });
      logger.debug({ page: this.id, fn, ms: Date.now() - started }, 'call');
    } catch (error) {
      const wire = toWire(error, logger, fn);
      logger.debug({ page: this.id, fn, ms: Date.now() - started, code: wire.code }, 'call failed');
      fail(wire);
    } finally {
      this.inflight--;
    }
  }
}
