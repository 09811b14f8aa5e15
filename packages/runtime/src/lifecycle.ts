import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How long a worker lets in-flight handlers finish after SIGTERM before it cuts them. */
export const DEFAULT_DRAIN_MS = 2_500;
/** Shutdown hooks and closing the connection each get at most this long after the drain. */
export const CLOSE_STEP_MS = 1_000;

interface Running {
  cut(error: Error): void;
}

/**
 * The handlers a worker is running. `track` runs one; `idle` waits (bounded) for none to be left;
 * `cutAll` makes every one still running settle at once with an error for its caller (the
 * handler's own work keeps going until the process exits, but its result is no longer awaited).
 */
export class InFlight {
  private readonly running = new Set<Running>();
  private readonly idleWaiters = new Set<() => void>();

  get size(): number {
    return this.running.size;
  }

  track<T>(run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Running = { cut: reject };
      this.running.add(entry);
      const done = () => {
        this.running.delete(entry);
        if (this.running.size === 0) for (const wake of this.idleWaiters) wake();
      };
      run().then(
        (value) => {
          done();
          resolve(value);
        },
        (error: unknown) => {
          done();
          reject(error);
        },
      );
    });
  }

  /** True once nothing runs; false when `timeoutMs` passes first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.running.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const finish = (value: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(wake);
        resolve(value);
      };
      const wake = () => finish(true);
      const timer = setTimeout(() => finish(false), timeoutMs);
      this.idleWaiters.add(wake);
    });
  }

  /** Settle every running handler with `error`; returns how many were cut. */
  cutAll(error: Error): number {
    const cut = [...this.running];
    this.running.clear();
    for (const entry of cut) entry.cut(error);
    for (const wake of this.idleWaiters) wake();
    return cut.length;
  }
}

/** Resolves with `promise`, or with `fallback` once `ms` passes (the promise keeps running). */
export function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export type Readiness = 'starting' | 'ready' | 'draining' | 'engine_unreachable' | 'stopped';

export interface HealthServerOptions {
  port: number;
  /** Default 0.0.0.0: a container probe comes from outside the container's loopback. */
  host?: string;
  /** The worker's readiness right now; only `ready` answers /readyz with 200. */
  readiness(): Promise<Readiness>;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Probe endpoints for containers: `GET /healthz` is 200 while the process serves HTTP at all
 * (liveness: restart only a wedged process, never because the engine is away); `GET /readyz` is
 * 200 only when the worker is registered, not draining, and the engine answers a round trip.
 * Bodies are `{status}` and nothing else: no names, versions or config leave through them.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((request, response) => {
    const reply = (code: number, status: string) => {
      response.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : JSON.stringify({ status }));
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return reply(405, 'method_not_allowed');
    const path = (request.url ?? '').split('?')[0];
    if (path === '/healthz') return reply(200, 'alive');
    if (path !== '/readyz') return reply(404, 'not_found');
    options.readiness().then(
      (status) => reply(status === 'ready' ? 200 : 503, status),
      () => reply(503, 'engine_unreachable'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Probes must never keep a stopping process alive.
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
