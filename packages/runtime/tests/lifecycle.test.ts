import { contract } from '@iii-harness/types';
import type { IIIClient } from 'iii-sdk';
import { z } from 'zod';
import {
  ConfigError,
  createLogger,
  DEFAULT_DRAIN_MS,
  fromInvocationError,
  lifecycleSettings,
  parseWorkerFlags,
  startHealthServer,
  Worker,
} from '../src/index.js';
import { captureLogs } from './helpers/capture.js';

type SdkHandler = (data: unknown, metadata?: unknown) => Promise<unknown>;

/** The slice of iii-sdk's client a Worker uses, recording what the worker did to it, in order. */
function fakeClient(options: { engineAnswers?: boolean } = {}) {
  const handlers = new Map<string, SdkHandler>();
  const events: string[] = [];
  const client = {
    registerFunction: (id: string, handler: SdkHandler) => {
      handlers.set(id, handler);
      return { id, unregister: () => events.push(`unregister ${id}`) };
    },
    registerTrigger: (trigger: { function_id: string }) => ({
      unregister: () => events.push(`unregister trigger ${trigger.function_id}`),
    }),
    trigger: async () => {
      if (options.engineAnswers === false) throw Object.assign(new Error('TIMEOUT: timed out'), { code: 'TIMEOUT' });
      return { functions: [] };
    },
    shutdown: async () => {
      events.push('close');
    },
  };
  return { client: client as unknown as IIIClient, handlers, events };
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const wait = contract({
  id: 'demo::wait',
  description: 'Wait for the test to let it go',
  input: z.object({ tag: z.string() }),
  output: z.object({ tag: z.string() }),
});
const other = contract({
  id: 'demo::other',
  description: 'Another function',
  input: z.object({}),
  output: z.object({}),
});

function demoWorker(options: { engineAnswers?: boolean } = {}) {
  const fake = fakeClient(options);
  const logs = captureLogs();
  const logger = createLogger({ worker: 'demo', level: 'debug', destination: logs.stream });
  const worker = new Worker('demo', {}, logger, fake.client);
  return { worker, logs, ...fake };
}

/** What a caller over the bus sees when the handler fails (iii-sdk sends the message as invocation_failed). */
async function asCaller(promise: Promise<unknown>, functionId: string) {
  try {
    return { result: await promise };
  } catch (error) {
    const wire = Object.assign(new Error(`invocation_failed: ${(error as Error).message}`), {
      code: 'invocation_failed',
    });
    return { error: fromInvocationError(wire, functionId) };
  }
}

describe('graceful shutdown', () => {
  it('lets calls in flight finish within the drain and answers the ones still running unavailable', async () => {
    const { worker, handlers, events } = demoWorker();
    const gates = { done: deferred(), stuck: deferred() };
    worker.function(wait, async ({ tag }) => {
      await gates[tag as keyof typeof gates].promise;
      return { tag };
    });
    const call = handlers.get('demo::wait')!;
    const finishes = asCaller(call({ tag: 'done' }), 'demo::wait');
    const stuck = asCaller(call({ tag: 'stuck' }), 'demo::wait');
    expect(worker.inFlightCount).toBe(2);

    const stopping = worker.shutdown({ drainMs: 200 });
    expect(events).toEqual(['unregister demo::wait']);
    gates.done.resolve();

    await expect(stopping).resolves.toEqual({ drained: 1, cut: 1 });
    await expect(finishes).resolves.toEqual({ result: { tag: 'done' } });
    const cut = await stuck;
    expect(cut.error).toMatchObject({ code: 'unavailable', reason: 'shutting_down', retryable: true });
    expect(events).toEqual(['unregister demo::wait', 'close']);
  });

  it('unregisters every function before draining and leaves triggers to the engine', async () => {
    const { worker, events } = demoWorker();
    worker.function(wait, async ({ tag }) => ({ tag }));
    worker.function(other, async () => ({}));
    worker.trigger({ type: 'durable:subscriber', function_id: 'demo::other', config: { topic: 't' } });
    await worker.shutdown();
    expect(events).toEqual(['unregister demo::wait', 'unregister demo::other', 'close']);
  });

  it('does not wait for the deadline when nothing is running', async () => {
    const { worker } = demoWorker();
    worker.function(wait, async ({ tag }) => ({ tag }));
    // A drain that waited out its bound would time this test out.
    await expect(worker.shutdown({ drainMs: 600_000 })).resolves.toEqual({ drained: 0, cut: 0 });
  });

  it('signals handlers when the drain starts, runs hooks after it, and shuts down once', async () => {
    const { worker, handlers, events } = demoWorker();
    const seen: string[] = [];
    worker.function(wait, async ({ tag }, _ctx) => {
      await new Promise<void>((resolve) => worker.shutdownSignal.addEventListener('abort', () => resolve()));
      seen.push(`wrapped up ${tag}`);
      return { tag };
    });
    worker.onShutdown(() => seen.push('first hook'));
    worker.onShutdown(() => seen.push('second hook'));
    const call = handlers.get('demo::wait')!({ tag: 'a' });
    expect(worker.shutdownSignal.aborted).toBe(false);
    const stopping = worker.shutdown({ drainMs: 600_000 });
    expect(worker.shutdown()).toBe(stopping);
    await expect(stopping).resolves.toEqual({ drained: 1, cut: 0 });
    await expect(call).resolves.toEqual({ tag: 'a' });
    expect(seen).toEqual(['wrapped up a', 'second hook', 'first hook']);
    expect(events.at(-1)).toBe('close');
  });

  it('still closes the connection when a hook fails, and reports the failure', async () => {
    const { worker, events } = demoWorker();
    worker.onShutdown(() => {
      throw new Error('hook broke');
    });
    await expect(worker.shutdown()).rejects.toThrow('hook broke');
    expect(events).toEqual(['close']);
  });
});

describe('readiness', () => {
  it('is starting, then ready, then draining, then stopped', async () => {
    const { worker, handlers } = demoWorker();
    const gate = deferred();
    worker.function(wait, async ({ tag }) => {
      await gate.promise;
      return { tag };
    });
    await expect(worker.readiness()).resolves.toBe('starting');
    worker.markStarted();
    await expect(worker.readiness()).resolves.toBe('ready');
    const call = handlers.get('demo::wait')!({ tag: 'x' });
    const stopping = worker.shutdown({ drainMs: 600_000 });
    await expect(worker.readiness()).resolves.toBe('draining');
    gate.resolve();
    await stopping;
    await call;
    await expect(worker.readiness()).resolves.toBe('stopped');
  });

  it('is not ready while the engine does not answer', async () => {
    const { worker } = demoWorker({ engineAnswers: false });
    worker.markStarted();
    await expect(worker.readiness()).resolves.toBe('engine_unreachable');
  });
});

describe('health endpoints', () => {
  it('answers /healthz always and /readyz 200 only when ready', async () => {
    let status: 'starting' | 'ready' | 'draining' = 'starting';
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', readiness: async () => status });
    const get = async (path: string, method = 'GET') => {
      const response = await fetch(`http://127.0.0.1:${server.port}${path}`, { method });
      return { code: response.status, body: method === 'GET' ? await response.json() : undefined };
    };
    try {
      await expect(get('/healthz')).resolves.toEqual({ code: 200, body: { status: 'alive' } });
      await expect(get('/readyz')).resolves.toEqual({ code: 503, body: { status: 'starting' } });
      status = 'ready';
      await expect(get('/readyz')).resolves.toEqual({ code: 200, body: { status: 'ready' } });
      status = 'draining';
      await expect(get('/readyz')).resolves.toEqual({ code: 503, body: { status: 'draining' } });
      await expect(get('/healthz')).resolves.toEqual({ code: 200, body: { status: 'alive' } });
      await expect(get('/readyz?verbose=1', 'HEAD')).resolves.toEqual({ code: 503, body: undefined });
      await expect(get('/metrics')).resolves.toMatchObject({ code: 404 });
      await expect(get('/readyz', 'POST')).resolves.toMatchObject({ code: 405 });
    } finally {
      await server.close();
    }
  });
});

describe('lifecycle settings', () => {
  it('takes flags over the environment, and defaults to no probes and a 2.5 s drain', () => {
    expect(lifecycleSettings(parseWorkerFlags([]), {})).toEqual({ drainMs: DEFAULT_DRAIN_MS });
    expect(DEFAULT_DRAIN_MS).toBe(2_500);
    const env = { IIH_HEALTH_PORT: '9464', IIH_HEALTH_HOST: '127.0.0.1', IIH_DRAIN_MS: '10000' };
    expect(lifecycleSettings(parseWorkerFlags([]), env)).toEqual({
      healthPort: 9464,
      healthHost: '127.0.0.1',
      drainMs: 10_000,
    });
    const flags = parseWorkerFlags(['--health-port', '0', '--drain-ms=500', '--health-host', '::1']);
    expect(lifecycleSettings(flags, env)).toEqual({ healthPort: 0, healthHost: '::1', drainMs: 500 });
  });

  it('rejects values that are not whole numbers in range, naming where they came from', () => {
    expect(() => lifecycleSettings(parseWorkerFlags(['--health-port', '70000']), {})).toThrow(ConfigError);
    expect(() => lifecycleSettings(parseWorkerFlags(['--drain-ms', '1.5']), {})).toThrow(/--drain-ms/);
    expect(() => lifecycleSettings(parseWorkerFlags([]), { IIH_DRAIN_MS: 'soon' })).toThrow(/IIH_DRAIN_MS/);
  });
});

describe('registering while shutting down', () => {
  it('registers nothing once the drain has started', async () => {
    const { worker, handlers } = demoWorker();
    const stopping = worker.shutdown();
    worker.function(wait, async ({ tag }) => ({ tag }));
    await stopping;
    expect(handlers.has('demo::wait')).toBe(false);
    expect(worker.functionIds).toEqual([]);
  });
});
