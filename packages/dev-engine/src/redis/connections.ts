/**
 * The engine's Redis connections: one command connection per URL (shared by state, streams and
 * the cron lock, auto-pipelined: commands issued in one tick share a round trip) and one
 * subscriber connection per URL (pubsub). A URL that does not answer within 5 s fails startup,
 * as in the real engine.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

const CONNECT_TIMEOUT_MS = 5_000;

export class RedisConnections {
  readonly #commands = new Map<string, Promise<Redis>>();
  readonly #subscribers = new Map<string, Promise<Redis>>();
  readonly #open: Redis[] = [];

  constructor(private readonly logger: Logger) {}

  /** The shared command connection to `url`, connected. */
  commands(url: string): Promise<Redis> {
    return this.#get(this.#commands, url, 'commands');
  }

  /** A connection in subscriber mode (SUBSCRIBE only), connected. */
  subscriber(url: string): Promise<Redis> {
    return this.#get(this.#subscribers, url, 'subscriber');
  }

  async close(): Promise<void> {
    const open = this.#open.splice(0);
    await Promise.all(open.map((redis) => redis.quit().catch(() => redis.disconnect())));
  }

  #get(pool: Map<string, Promise<Redis>>, url: string, role: string): Promise<Redis> {
    let pending = pool.get(url);
    if (!pending) {
      pending = this.#connect(url, role);
      pool.set(url, pending);
      pending.catch(() => pool.delete(url));
    }
    return pending;
  }

  async #connect(url: string, role: string): Promise<Redis> {
    const redis = new Redis(url, {
      lazyConnect: true,
      enableAutoPipelining: role === 'commands',
      connectionName: `iii-dev-engine-${role}`,
    });
    // ioredis reconnects by itself; errors while it does are logged once per kind, not thrown.
    let lastError = '';
    redis.on('error', (error: Error) => {
      if (error.message === lastError) return;
      lastError = error.message;
      this.logger.warn({ err: error.message, redis: redactUrl(url), role }, 'redis connection error');
    });
    redis.on('ready', () => {
      lastError = '';
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        redis.connect(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      redis.disconnect();
      throw new RedisUnavailableError(
        `cannot connect to Redis at ${redactUrl(url)} (${(error as Error).message}); is redis-server running there?`,
      );
    } finally {
      clearTimeout(timer);
    }
    this.#open.push(redis);
    return redis;
  }
}

export class RedisUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisUnavailableError';
  }
}

/** A URL fit for logs: the password (if any) replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
