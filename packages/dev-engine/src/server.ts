/**
 * A worker-manager listener (default 127.0.0.1:49134). Three WebSocket routes, like the real
 * engine: `/` for workers, `/otel` for the SDK's telemetry socket (ingested, never a worker),
 * and `/ws/channels/<id>?key=..&dir=read|write` for data channels.
 *
 * Every upgrade is checked first: a browser's foreign `Origin` gets 403 (see security/origin.ts),
 * and the SocketGuard bounds handshakes, idle sockets and the number of open sockets.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { attachChannelSocket, type ChannelManager } from './builtins/channels.js';
import type { AuthFailure } from './rbac/auth.js';
import type { WorkerSession } from './rbac/policy.js';
import type { Router } from './router.js';
import type { SecurityOptions } from './security/options.js';
import { originAllowed } from './security/origin.js';
import { SocketGuard } from './security/sockets.js';

export interface WorkerServerOptions {
  host: string;
  port: number;
  /** Largest accepted WebSocket message (the real engine's tungstenite default: 64 MiB). */
  maxPayload: number;
  security: SecurityOptions;
  /** Binary telemetry frames from `/otel` sockets. */
  onTelemetry?: (data: Buffer) => void;
  /**
   * Listeners with `rbac` or `middleware_function_id`: the session of each worker connection,
   * decided after the upgrade and before the engine sends anything (an auth function may refuse it).
   */
  authenticate?: (req: IncomingMessage) => Promise<WorkerSession | AuthFailure>;
}

export interface WorkerServer {
  port: number;
  close(): Promise<void>;
}

export async function startWorkerServer(
  router: Router,
  channels: ChannelManager,
  logger: Logger,
  options: WorkerServerOptions,
): Promise<WorkerServer> {
  const { security } = options;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxPayload });
  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('Upgrade Required');
  });
  const guard = new SocketGuard(server, security, logger);

  server.on('upgrade', (req: IncomingMessage, rawSocket: Socket, head: Buffer) => {
    rawSocket.on('error', () => undefined);
    const origin = req.headers.origin;
    if (!originAllowed(origin, security.allowedOrigins)) {
      logger.warn({ origin, path: req.url }, 'WebSocket upgrade refused: origin not allowed');
      return reject(rawSocket, 403, 'Forbidden');
    }
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname;
    const accept = (onSocket: (ws: WebSocket) => void, evictable: (ws: WebSocket) => boolean) =>
      wss.handleUpgrade(req, rawSocket, head, (ws) => {
        guard.upgraded(rawSocket, ws, () => evictable(ws));
        onSocket(ws);
      });
    if (path === '/' || path === '') return acceptWorker(req, rawSocket, accept);
    if (path === '/otel')
      return accept(
        (ws) => acceptTelemetry(ws, options.onTelemetry),
        () => true,
      );
    if (path.startsWith('/ws/channels/')) {
      const id = decodeURIComponent(path.slice('/ws/channels/'.length));
      const key = url.searchParams.get('key') ?? '';
      const dir = url.searchParams.get('dir');
      if (dir !== 'read' && dir !== 'write') return reject(rawSocket, 400, 'Bad Request');
      const channel = channels.lookup(id, key);
      if (!channel) return reject(rawSocket, 404, 'Not Found');
      return accept(
        (ws) => attachChannelSocket(channel, ws, dir),
        () => false,
      );
    }
    reject(rawSocket, 404, 'Not Found');
  });

  const limits = {
    highWaterBytes: security.outboundHighWaterBytes,
    maxBytes: security.maxOutboundBytes,
    stallTimeoutMs: security.outboundStallTimeoutMs,
  };
  function acceptWorker(
    req: IncomingMessage,
    rawSocket: Socket,
    accept: (onSocket: (ws: WebSocket) => void, evictable: (ws: WebSocket) => boolean) => void,
  ): void {
    const ip = req.socket.remoteAddress ?? '';
    let conn: ReturnType<Router['attach']> | undefined;
    const evictable = () => conn === undefined || router.isIdle(conn);
    const authenticate = options.authenticate;
    if (authenticate === undefined) {
      accept((ws) => {
        conn = router.attach(ws, ip, rawSocket, limits);
      }, evictable);
      return;
    }
    accept((ws) => {
      // Frames sent while the auth function runs wait (in the paused socket, or here if already
      // read) and are handled in order once the connection is attached.
      rawSocket.pause();
      const early: Array<[RawData, boolean]> = [];
      const hold = (data: RawData, isBinary: boolean) => early.push([data, isBinary]);
      ws.on('message', hold);
      authenticate(req).then(
        (session) => {
          ws.off('message', hold);
          rawSocket.resume();
          if ('error' in session) {
            logger.warn(
              { ip_address: ip, reason: session.error.message },
              'worker connection refused by the auth function',
            );
            ws.send(JSON.stringify({ type: 'error', error: session.error }));
            ws.close();
            return;
          }
          conn = router.attach(ws, ip, rawSocket, limits, session);
          for (const [data, isBinary] of early) conn.receive(data, isBinary);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'authentication failed');
          ws.terminate();
        },
      );
    }, evictable);
  }

  await listen(server, options.host, options.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  logger.info({ host: options.host, port, session: options.authenticate !== undefined }, 'worker manager listening');

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        guard.close();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The SDK's OTel exporter socket: binary frames go to the telemetry sink, nothing is ever sent back. */
function acceptTelemetry(ws: WebSocket, onTelemetry: ((data: Buffer) => void) | undefined): void {
  ws.on('error', () => undefined);
  ws.on('message', (data, isBinary) => {
    if (!isBinary || !onTelemetry) return;
    onTelemetry(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
  });
}

function reject(socket: Socket, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`,
  );
}

export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, rejectListen) => {
    const onError = (error: Error) => rejectListen(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
