import { startWorker, type Worker, type WorkerSpec } from '@iii-harness/runtime';
import { contract, contracts } from '@iii-harness/types';
import { z } from 'zod';
import { connectClient, type DevEngine, eventually, startDevEngine, type TestClient } from '../src/index.js';

/**
 * The name a worker gives the engine: its own name by default (what the console looks for, and
 * unique per engine since each engine runs one copy), `<name>:<instance>` for a deliberate second
 * process on one engine, the supervisor's `III_WORKER_NAME` over both. Function ids never change.
 */
const ping = contract({
  id: 'named::ping',
  description: 'answers pong',
  input: z.object({}).strict(),
  output: z.object({ pong: z.literal(true) }),
});
const spec: WorkerSpec<Record<string, never>> = {
  name: 'named',
  description: 'a worker to look up by name',
  config: z.object({}).strict(),
  register: (worker) => worker.function(ping, () => ({ pong: true as const })),
};

let engine: DevEngine;
let client: TestClient;
const started: Worker<unknown>[] = [];

beforeAll(async () => {
  engine = await startDevEngine();
  client = await connectClient(engine.url);
}, 60_000);

afterEach(async () => {
  await Promise.all(started.splice(0).map((w) => w.shutdown()));
  delete process.env.III_WORKER_NAME;
  delete process.env.IIH_WORKER_INSTANCE;
});

afterAll(async () => {
  await client?.close();
  await engine?.close();
});

async function start(instance?: string): Promise<Worker<unknown>> {
  const worker = await startWorker(spec, { url: engine.url, otel: false, logLevel: 'silent', instance });
  started.push(worker as Worker<unknown>);
  return worker as Worker<unknown>;
}

/** Names of the connected workers, once `expected` is among them (the metadata call is fire-and-forget). */
async function workerNames(expected: string): Promise<string[]> {
  return eventually(async () => {
    const { workers } = (await client.bus.invoke('engine::workers::list', {})) as { workers: Array<{ name: string }> };
    const names = workers.map((w) => w.name);
    if (!names.includes(expected)) throw new Error(`${expected} is not listed: ${names.join(', ')}`);
    return names;
  });
}

it('registers under its own name, with its function ids unchanged', async () => {
  await start();
  expect((await workerNames('named')).filter((name) => name.startsWith('named:'))).toEqual([]);
  expect(await client.bus.invoke(ping.id, {})).toEqual({ pong: true });
  const { functions } = await client.bus.call(contracts.engine.functionsList, { prefix: 'named::' });
  expect(functions.map((f) => f.function_id)).toEqual(['named::ping']);
});

it('adds the instance for a deliberate second process on one engine (option or IIH_WORKER_INSTANCE)', async () => {
  await start('blue');
  process.env.IIH_WORKER_INSTANCE = 'green';
  await start();
  const names = await workerNames('named:green');
  expect(names).toContain('named:blue');
  expect(names).not.toContain('named');
});

it("lets the supervisor's III_WORKER_NAME win", async () => {
  process.env.III_WORKER_NAME = 'named-by-supervisor';
  await start('blue');
  expect(await workerNames('named-by-supervisor')).not.toContain('named:blue');
});

it('gives every process its own instance id (the lease holder)', async () => {
  const [a, b] = [await start('a'), await start('b')];
  expect(a.instanceId).not.toBe(b.instanceId);
  expect(a.instanceId).toMatch(new RegExp(`:${process.pid}:[0-9a-f]{8}$`));
  expect(a.leases.holder).toBe(a.instanceId);
});
