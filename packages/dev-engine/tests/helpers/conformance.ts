/**
 * Shared fixtures for the conformance suite: an in-memory engine on ephemeral ports, real
 * iii-sdk@0.22.1 workers, a raw WebSocket client for protocol-level assertions, and polling.
 */
import { type IIIClient, type InitOptions, registerWorker } from 'iii-sdk';
import WebSocket from 'ws';
import { defaultConfig, type EngineOptions, type RunningEngine, startEngine } from '../../src/index.js';
import { startRedisServer } from '../../src/services.js';

/**
 * With DEV_ENGINE_TEST_ADAPTER=redis, an engine started without a config of its own keeps state,
 * streams, pubsub and cron locks in a Redis of its own (a fresh redis-server per engine), so the
 * conformance suite checks the Redis adapters against the same expectations as SQLite.
 */
const TEST_ADAPTER = process.env.DEV_ENGINE_TEST_ADAPTER;

/** `test`, or `test.skip` for a test about SQLite itself when the suite runs on Redis. */
export const sqliteOnlyTest = TEST_ADAPTER === 'redis' ? test.skip : test;

export async function startTestEngine(options: EngineOptions = {}): Promise<RunningEngine> {
  const base: EngineOptions = { port: 0, httpPort: 0, memory: true, logLevel: 'silent', ...options };
  if (TEST_ADAPTER !== 'redis' || options.config || options.configPath) return startEngine(base);
  const redis = await startRedisServer();
  const adapter = { name: 'redis' as const, redis_url: redis.url };
  const config = defaultConfig();
  config.state = { adapter };
  config.stream = { adapter };
  config.pubsub = { adapter };
  config.cron = { adapter };
  const engine = await startEngine({ ...base, config }).catch(async (error: unknown) => {
    await redis.stop();
    throw error;
  });
  return {
    ...engine,
    close: async () => {
      await engine.close();
      await redis.stop();
    },
  };
}

/** The SDK prints `[iii] ...` debug lines and registration failures; keep test output clean. */
export function quietSdk(): void {
  jest.spyOn(console, 'debug').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
}

/** A real SDK worker; OTel off, fast reconnects. */
export function connectWorker(url: string, workerName: string, options: InitOptions = {}): IIIClient {
  return registerWorker(url, {
    workerName,
    otel: { enabled: false },
    enableMetricsReporting: false,
    invocationTimeoutMs: 5000,
    reconnectionConfig: { initialDelayMs: 50, maxDelayMs: 200, jitterFactor: 0 },
    ...options,
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll until `check` returns a truthy value without throwing. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 5000, intervalMs = 15 } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline)
      throw new Error(`waitFor timed out${lastError ? `: ${(lastError as Error).message}` : ''}`);
    await sleep(intervalMs);
  }
}

/** Wait until `id` is callable from `client` (registration is fire-and-forget, as with the real engine). */
export async function waitForFunction(client: IIIClient, id: string): Promise<void> {
  await waitFor(async () => {
    const info = (await client.trigger({ function_id: 'engine::functions::info', payload: { function_id: id } })) as {
      function_id: string;
    };
    return info.function_id === id;
  });
}

type Frame = Record<string, any>;

/** A bare WebSocket speaking the wire protocol, recording every frame it receives. */
export class RawClient {
  readonly frames: Frame[] = [];
  readonly rawTexts: string[] = [];
  closed = false;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      this.rawTexts.push(isBinary ? `<binary>${text}` : text);
      try {
        this.frames.push(JSON.parse(text));
      } catch {
        /* recorded as raw text only */
      }
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async connect(url: string): Promise<RawClient> {
    const ws = new WebSocket(url);
    const client = new RawClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  get workerId(): string {
    return this.frames.find((f) => f.type === 'workerregistered')?.worker_id;
  }

  send(frame: Frame | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolve with the first recorded frame matching `match` (waiting for it if needed). */
  async next(match: (f: Frame) => boolean, timeoutMs = 3000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (this.closed) throw new Error('socket closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Invoke through the engine and wait for the result frame. */
  async invoke(function_id: string, data: unknown, extra: Frame = {}): Promise<Frame> {
    const invocation_id = crypto.randomUUID();
    this.send({ type: 'invokefunction', invocation_id, function_id, data, ...extra });
    return this.next((f) => f.type === 'invocationresult' && f.invocation_id === invocation_id);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
