import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createLogger,
  DEFAULT_III_URL,
  type Logger,
  registerSecret,
  startWorker,
  type Worker,
} from '@iii-harness/runtime';
import type { ConsoleStatus } from '@iii-harness/types';
import { buildAllowlist, type CallContext } from './allowlist.js';
import type { Config } from './config.js';
import { ConsoleOps } from './console-ops.js';
import { EngineLink } from './engine-link.js';
import { Gateway } from './gateway.js';
import { LiveHub } from './live.js';
import { consoleWorker } from './register.js';
import { AccessGuard, BASE_HEADERS, generateToken, isLoopbackHost } from './security.js';
import { StaticFiles } from './static-files.js';

export interface ConsoleOptions {
  /** Engine address (default $III_URL or ws://127.0.0.1:49134). */
  url?: string;
  config: Config;
  /** The built page (`dist/public`). */
  staticDir: string;
  version?: string;
  logger?: Logger;
  /** OpenTelemetry export to the engine (default on, as for every worker). */
  otel?: boolean;
  /** Pause between attempts to reach an engine that is not up yet. */
  retryMs?: number;
}

export interface RunningConsole {
  /** Where the page is, e.g. http://127.0.0.1:3113/ (without the token). */
  url: string;
  /** The URL to open: with `?token=` when a token is required. */
  openUrl: string;
  host: string;
  port: number;
  token?: string;
  /** Resolves once the console is connected to the engine and its pushes are registered. */
  connected: Promise<void>;
  close(): Promise<void>;
}

const hostForUrl = (host: string) =>
  host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

/**
 * Start the console: the HTTP server (page and `/ws`) first, so a browser sees "connecting"
 * rather than nothing, then the bus worker, retried until the engine answers.
 */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const { config } = options;
  const logger = options.logger ?? createLogger({ worker: 'console' });
  const engineUrl = options.url ?? process.env.III_URL ?? DEFAULT_III_URL;
  const version = options.version ?? '0.0.0';
  const token = config.token ?? (isLoopbackHost(config.host) ? undefined : generateToken());
  if (token) registerSecret(token);
  const files = new StaticFiles(options.staticDir);
  if (!files.built)
    logger.warn({ dir: options.staticDir }, "the console's page is not built here: serving the bus functions only");

  const server = createServer();
  const port = await listen(server, config.port, config.host);
  const guard = new AccessGuard({ host: config.host, port, token, allowedOrigins: config.allowed_origins });
  const url = `http://${hostForUrl(config.host)}:${port}/`;
  const hub = new LiveHub();
  let worker: Worker<Config> | undefined;
  const link = new EngineLink(
    engineUrl,
    (engine) => hub.broadcast({ t: 'engine', engine }),
    (features) => hub.broadcast({ t: 'features', features }),
    logger,
  );
  const ops = new ConsoleOps(
    () => {
      if (!worker) throw new Error('not connected');
      return worker.bus;
    },
    (frame) => hub.broadcast(frame),
    logger,
  );
  const gateway = new Gateway({
    guard,
    allowlist: buildAllowlist(config),
    hub,
    context: (): CallContext | undefined => (worker && link.engine.connected ? { bus: worker.bus, ops } : undefined),
    engine: () => link.engine,
    features: () => link.current,
    logger,
    version,
    limits: config,
  });
  server.on('request', (req, res) => handleRequest(req, res, guard, files));
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://console').pathname === '/ws') gateway.upgrade(req, socket, head);
    else socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  const status = (): ConsoleStatus => ({
    url,
    host: config.host,
    port,
    token_required: guard.tokenRequired,
    pages: gateway.pages,
    version,
  });
  let closed = false;
  const spec = consoleWorker({ instance: randomUUID().slice(0, 8), hub, link, status });
  const connected = (async () => {
    for (let attempt = 1; !closed; attempt++) {
      try {
        const started = await startWorker(spec, { url: engineUrl, config, logger, otel: options.otel });
        if (closed) return void (await started.shutdown());
        worker = started;
        link.attach(started.client, started.bus);
        return;
      } catch (error) {
        if (attempt === 1 || attempt % 10 === 0)
          logger.warn({ url: engineUrl, err: (error as Error).message, attempt }, 'engine not reachable yet; retrying');
        await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 2_000));
      }
    }
  })();
  logger.info({ url, engine: engineUrl, token_required: guard.tokenRequired }, 'console listening');

  return {
    url,
    openUrl: token ? `${url}?token=${encodeURIComponent(token)}` : url,
    host: config.host,
    port,
    ...(token ? { token } : {}),
    connected,
    async close() {
      closed = true;
      link.close();
      gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await worker?.shutdown();
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

interface Answer {
  status: number;
  text: string;
  headers?: Record<string, string>;
}

/**
 * Only GET and HEAD, and nothing but the built page: every action goes over the WebSocket,
 * whose Origin is checked, so no HTTP request can change anything (nothing to forge).
 * Returns the plain-text answer to send, or nothing when the page (or an asset) was served.
 */
function answer(req: IncomingMessage, res: ServerResponse, guard: AccessGuard, files: StaticFiles): Answer | undefined {
  if (!guard.hostAllowed(req))
    return { status: 421, text: 'This console answers only to 127.0.0.1, localhost or [::1].' };
  const url = new URL(req.url ?? '/', 'http://console');
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return { status: 405, text: 'Method not allowed', headers: { Allow: 'GET, HEAD' } };
  if (url.searchParams.has('token') && guard.queryTokenValid(url)) {
    url.searchParams.delete('token');
    return {
      status: 303,
      text: 'See Other',
      headers: { Location: `${url.pathname}${url.search}`, 'Set-Cookie': guard.sessionCookie() },
    };
  }
  if (!guard.authorized(req))
    return { status: 401, text: 'This console needs its access token: open the URL it printed at start (…/?token=…).' };
  if (url.pathname === '/ws') return { status: 426, text: 'Upgrade to a WebSocket', headers: { Upgrade: 'websocket' } };
  if (!files.built)
    return {
      status: 503,
      text: 'This console was installed without its page (dist/public): install the npm package @iii-harness/console, or run `npm run build` in packages/console.',
    };
  if (files.serve(url.pathname, res, req.method === 'HEAD')) return undefined;
  return { status: 404, text: 'Not found' };
}

function handleRequest(req: IncomingMessage, res: ServerResponse, guard: AccessGuard, files: StaticFiles): void {
  const plain = answer(req, res, guard, files);
  if (!plain) return;
  res.writeHead(plain.status, {
    ...BASE_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
    ...plain.headers,
  });
  res.end(`${plain.text}\n`);
}
