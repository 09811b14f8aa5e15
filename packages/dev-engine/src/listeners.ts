/**
 * The worker-manager listeners: one per `iii-worker-manager` entry. The first is the main port
 * (`--port` / `--host` override it); the others are extra ports, typically a public RBAC port
 * whose connections are authenticated and checked (rbac/). A listener with neither `rbac` nor
 * `middleware_function_id` gives its connections no session: nothing is checked there.
 */
import type { Logger } from 'pino';
import type { ChannelManager } from './builtins/channels.js';
import type { WorkerManagerConfig } from './config.js';
import { authenticate } from './rbac/auth.js';
import type { Router } from './router.js';
import type { SecurityOptions } from './security/options.js';
import { startWorkerServer, type WorkerServer } from './server.js';

export interface Listener {
  name: string;
  url: string;
  port: number;
  server: WorkerServer;
}

export interface ListenerDefaults {
  host: string;
  port: number;
  maxPayload: number;
  security: SecurityOptions;
  onTelemetry: (frame: Buffer) => void;
}

export function urlHost(h: string): string {
  return h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h.includes(':') ? `[${h}]` : h;
}

/** Starts every listener in order; on failure closes those already started and rethrows. */
export async function startListeners(
  router: Router,
  channels: ChannelManager,
  logger: Logger,
  managers: WorkerManagerConfig[],
  main: ListenerDefaults,
): Promise<Listener[]> {
  const started: Listener[] = [];
  try {
    for (const [i, manager] of managers.entries()) {
      const host = i === 0 ? main.host : (manager.host ?? main.host);
      const port = i === 0 ? main.port : (manager.port ?? 0);
      const gated = manager.rbac !== undefined || manager.middleware_function_id !== undefined;
      const server = await startWorkerServer(router, channels, logger, {
        host,
        port,
        maxPayload: main.maxPayload,
        security: {
          ...main.security,
          handshakeTimeoutMs: manager.handshake_timeout_ms ?? main.security.handshakeTimeoutMs,
        },
        onTelemetry: main.onTelemetry,
        authenticate: gated
          ? (req) => authenticate(router, manager.rbac, manager.middleware_function_id, req)
          : undefined,
      });
      started.push({
        name: manager.name ?? 'iii-worker-manager',
        url: `ws://${urlHost(host)}:${server.port}`,
        port: server.port,
        server,
      });
    }
  } catch (error) {
    for (const l of started) await l.server.close();
    throw error;
  }
  return started;
}
