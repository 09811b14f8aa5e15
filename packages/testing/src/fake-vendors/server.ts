import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { RawSseFrame, Scenario } from './scenario.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export type Route = (
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  server: FakeVendorServer,
) => Promise<void> | void;

/**
 * The plumbing every fake vendor shares: an HTTP server on 127.0.0.1 with an ephemeral port,
 * a log of requests, a queue of scripted scenarios, and notice of connections the client closed
 * (how abort tests see that the upstream stream was cut).
 */
export class FakeVendorServer {
  readonly requests: RecordedRequest[] = [];
  /** Timestamps (ms) at which a client closed a connection while a response was still streaming. */
  readonly clientAborts: number[] = [];
  private readonly scenarios: Scenario[] = [];
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  url = '';

  constructor(private readonly routes: Record<string, Route>) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Script the next responses, in order; when the queue is empty the route's default applies. */
  enqueue(...scenarios: Scenario[]): this {
    this.scenarios.push(...scenarios);
    return this;
  }

  nextScenario(): Scenario | undefined {
    return this.scenarios.shift();
  }

  /** Requests to paths starting with `prefix`. */
  requestsTo(prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown = text;
    if (text && String(req.headers['content-type'] ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        // keep the raw text; the route decides
      }
    }
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
    res.on('close', () => {
      if (!res.writableFinished) this.clientAborts.push(Date.now());
    });
    const route =
      this.routes[`${req.method} ${path}`] ??
      Object.entries(this.routes).find(([key]) => matchPattern(key, `${req.method} ${path}`))?.[1];
    if (!route) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: `no fake route for ${req.method} ${path}` } }));
      return;
    }
    try {
      await route(req, res, body, this);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake server failed: ${(error as Error).message}` } }));
    }
  }
}

/** Route keys may end with `*` to match a path prefix, e.g. `POST /api/v1/models/*`. */
function matchPattern(pattern: string, actual: string): boolean {
  return pattern.endsWith('*') && actual.startsWith(pattern.slice(0, -1));
}

/** Write one SSE event; `event` is omitted for `data:`-only streams (OpenAI). */
export function writeSse(res: ServerResponse, data: unknown, event?: string): void {
  res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

/** Answer with a scenario's hand-written frames (`raw_sse`), pausing `delayMs` between them, then end. */
export async function streamRawSse(res: ServerResponse, frames: RawSseFrame[], delayMs = 0): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  for (const [n, frame] of frames.entries()) {
    if (n > 0) await delay(delayMs);
    if (res.destroyed) return;
    writeSse(res, frame.data, frame.event);
  }
  res.end();
}

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
