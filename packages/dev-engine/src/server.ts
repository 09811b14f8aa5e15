/**
 * The worker-manager listener (default 127.0.0.1:49134). Three WebSocket routes, like the real
 * engine: `/` for workers, `/otel` for the SDK's telemetry socket (accepted, frames discarded,
 * never a worker), and `/ws/channels/<id>?key=..&dir=read|write` for data channels.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import { attachChannelSocket, type ChannelManager } from './builtins/channels.js';
import type { Router } from './router.js';

export interface WorkerServerOptions {
  host: string;
  port: number;
  /** Largest accepted WebSocket message (the real engine's tungstenite default: 64 MiB). */
  maxPayload: number;
  handshakeTimeoutMs: number;
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
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxPayload });
  const sockets = new Set<WebSocket>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('Upgrade Required');
  });
  server.headersTimeout = options.handshakeTimeoutMs;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://engine');
    const path = url.pathname;
    const accept = (onSocket: (ws: WebSocket) => void) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        sockets.add(ws);
        ws.on('close', () => sockets.delete(ws));
        onSocket(ws);
      });
    if (path === '/' || path === '') return accept((ws) => router.attach(ws, req.socket.remoteAddress ?? '', socket));
    if (path === '/otel') return accept(acceptTelemetry);
    if (path.startsWith('/ws/channels/')) {
      const id = decodeURIComponent(path.slice('/ws/channels/'.length));
      const key = url.searchParams.get('key') ?? '';
      const dir = url.searchParams.get('dir');
      if (dir !== 'read' && dir !== 'write') return reject(socket, 400, 'Bad Request');
      const channel = channels.lookup(id, key);
      if (!channel) return reject(socket, 404, 'Not Found');
      return accept((ws) => attachChannelSocket(channel, ws, dir));
    }
    reject(socket, 404, 'Not Found');
  });

  await listen(server, options.host, options.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  logger.info({ host: options.host, port }, 'worker manager listening');

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The SDK's OTel exporter socket: keep it open (or the SDK reconnects forever) and discard frames. */
function acceptTelemetry(ws: WebSocket): void {
  ws.on('error', () => undefined);
  ws.on('message', () => undefined);
}

function reject(socket: Duplex, status: number, text: string): void {
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
