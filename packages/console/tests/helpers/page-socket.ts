import { request } from 'node:http';
import WebSocket from 'ws';

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTP request with the headers a test chooses (Host included: rebinding tests). */
export function http(
  url: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a WebSocket upgrade came to: open (with the socket) or refused (with the HTTP status). */
export type Upgrade = { open: true; socket: PageSocket } | { open: false; status: number };

/**
 * The page's side of `/ws`, for tests: raw frames in and out. Every frame received is kept, so a
 * test can assert that a secret never crossed.
 */
export class PageSocket {
  readonly frames: Array<Record<string, unknown>> = [];
  readonly raw: string[] = [];
  private nextId = 1;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = String(data);
      this.raw.push(text);
      this.frames.push(JSON.parse(text) as Record<string, unknown>);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static connect(url: string, headers: Record<string, string>): Promise<Upgrade> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url, { headers });
      const socket = new PageSocket(ws);
      ws.once('open', () => resolve({ open: true, socket }));
      ws.once('unexpected-response', (_req, res) => resolve({ open: false, status: res.statusCode ?? 0 }));
      ws.once('error', () => resolve({ open: false, status: 0 }));
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame matching, waiting for it if needed. */
  async next(match: (frame: Record<string, unknown>) => boolean, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame; got ${this.raw.slice(-5).join('\n')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /** A call as the page makes it; resolves with the reply frame. */
  async call(fn: string, payload: unknown = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.send({ t: 'call', id, fn, payload });
    return this.next((f) => f.t === 'reply' && f.id === id);
  }

  close(): void {
    this.ws.close();
  }
}
