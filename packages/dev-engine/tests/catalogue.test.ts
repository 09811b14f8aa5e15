/**
 * Conformance: the engine::* catalogue and the engine's own trigger types.
 */
import type { IIIClient } from 'iii-sdk';
import type { RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, sleep, startTestEngine, waitFor, waitForFunction } from './helpers/conformance.js';

let engine: RunningEngine;
let cat: IIIClient;
const call = (function_id: string, payload: unknown = {}) => cat.trigger({ function_id, payload }) as Promise<any>;

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine({ functionsPollMs: 100 });
  cat = connectWorker(engine.url, 'catalogue-worker', { workerDescription: 'reads the catalogue' });
  cat.registerFunction('orders::create', async () => 1, {
    description: 'Create an order',
    metadata: { team: 'sales' },
    request_format: { type: 'object' },
    response_format: { type: 'number' },
  } as any);
  cat.registerFunction('orders::secret', async () => 1, { metadata: { internal: true } } as any);
  cat.registerFunction('standalone', async () => 1);
  cat.registerTrigger({
    type: 'subscribe',
    function_id: 'orders::create',
    config: { topic: 'a-very-long-topic-name-that-goes-on-and-on-and-on-and-on-and-on-and-on-forever' },
  });
  await waitForFunction(cat, 'standalone');
  await waitFor(async () =>
    (await call('engine::workers::list')).workers.some((w: any) => w.name === 'catalogue-worker'),
  );
});

afterAll(async () => {
  await cat.shutdown();
  await engine.close();
});

test('functions::list: worker names, filters, engine::* and internal functions hidden by default', async () => {
  const { functions } = await call('engine::functions::list');
  const byId = Object.fromEntries(functions.map((f: any) => [f.function_id, f]));
  expect(byId['orders::create']).toEqual({
    function_id: 'orders::create',
    worker_name: 'catalogue-worker',
    description: 'Create an order',
    metadata: { team: 'sales' },
  });
  expect(byId['state::set']).toMatchObject({ worker_name: 'iii-state' });
  expect(byId['orders::secret']).toBeUndefined();
  expect(
    functions.some((f: any) => f.function_id.startsWith('engine::') && !f.function_id.startsWith('engine::queue::')),
  ).toBe(false);
  const all = (await call('engine::functions::list', { include_internal: true })).functions.map(
    (f: any) => f.function_id,
  );
  expect(all).toEqual(expect.arrayContaining(['engine::functions::list', 'orders::secret']));
  expect(
    (await call('engine::functions::list', { prefix: 'orders::' })).functions.map((f: any) => f.function_id),
  ).toEqual(['orders::create']);
  expect(
    (await call('engine::functions::list', { search: 'CREATE AN' })).functions.map((f: any) => f.function_id),
  ).toEqual(['orders::create']);
  expect(
    (await call('engine::functions::list', { worker: 'catalogue-worker' })).functions
      .map((f: any) => f.function_id)
      .sort(),
  ).toEqual(['orders::create', 'standalone']);
});

test('functions::info: single and batch forms, NOT_FOUND and INVALID_ARGUMENTS', async () => {
  const info = await call('engine::functions::info', { function_id: 'orders::create' });
  expect(info).toEqual({
    function_id: 'orders::create',
    worker_name: 'catalogue-worker',
    description: 'Create an order',
    request_schema: { type: 'object' },
    response_schema: { type: 'number' },
    metadata: { team: 'sales' },
    registered_triggers: [{ id: expect.any(String), trigger_type: 'subscribe', config: expect.any(Object) }],
  });
  await expect(call('engine::functions::info', { function_id: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  await expect(call('engine::functions::info', {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENTS' });
  const batch = await call('engine::functions::info', { function_ids: ['standalone', 'nope'] });
  expect(batch.functions).toEqual([
    expect.objectContaining({ function_id: 'standalone', worker_name: 'catalogue-worker' }),
    { function_id: 'nope', error: 'not_found' },
  ]);
});

test('triggers::list / triggers::info', async () => {
  const { triggers } = await call('engine::triggers::list');
  const ids = triggers.map((t: any) => t.id);
  expect(ids).toEqual([...ids].sort());
  expect(ids).toEqual(expect.arrayContaining(['cron', 'http', 'state', 'stream', 'subscribe']));
  expect(ids.some((id: string) => id.startsWith('engine::'))).toBe(false);
  expect(triggers.find((t: any) => t.id === 'cron')).toEqual({
    id: 'cron',
    worker_name: 'iii-cron',
    description: 'Cron trigger',
  });
  expect(triggers[0]).not.toHaveProperty('configuration_schema');
  expect((await call('engine::triggers::list', { include_internal: true })).triggers.map((t: any) => t.id)).toEqual(
    expect.arrayContaining(['engine::workers-available', 'engine::functions-available']),
  );
  await expect(call('engine::triggers::info', { id: 'subscribe' })).resolves.toMatchObject({
    id: 'subscribe',
    worker_name: 'iii-pubsub',
    instance_count: 1,
  });
  await expect(call('engine::triggers::info', { id: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
});

test('registered-triggers::list / info with a config_summary truncated at 80 chars', async () => {
  const { registered_triggers } = await call('engine::registered-triggers::list', { trigger_type: 'subscribe' });
  expect(registered_triggers).toHaveLength(1);
  const row = registered_triggers[0];
  expect(row).toMatchObject({
    trigger_type: 'subscribe',
    function_id: 'orders::create',
    worker_name: 'catalogue-worker',
  });
  expect(row.config_summary).toBe(`${JSON.stringify(row.config).slice(0, 80)}…`);
  const info = await call('engine::registered-triggers::info', { id: row.id });
  expect(info).toMatchObject({ id: row.id, trigger: { id: 'subscribe' }, function: { function_id: 'orders::create' } });
});

test('workers::list / workers::info: SDK workers after they report metadata, in-process workers too', async () => {
  const { workers } = await call('engine::workers::list');
  const me = workers.find((w: any) => w.name === 'catalogue-worker');
  expect(me).toEqual({
    name: 'catalogue-worker',
    description: 'reads the catalogue',
    version: '0.22.1',
    id: expect.any(String),
    runtime: 'node',
    os: expect.any(String),
    status: 'connected',
    function_count: 3,
    connected_at_ms: expect.any(Number),
    active_invocations: 0,
    isolation: null,
    ip_address: expect.any(String),
  });
  expect(workers.find((w: any) => w.name === 'iii-state')).toMatchObject({
    runtime: 'engine',
    status: 'available',
    isolation: 'in-process',
  });
  expect(
    (await call('engine::workers::list', { runtime: 'node' })).workers.every((w: any) => w.runtime === 'node'),
  ).toBe(true);
  const info = await call('engine::workers::info', { name: 'catalogue-worker' });
  expect(info.worker).toMatchObject({ id: me.id, pid: process.pid });
  expect(info.functions.map((f: any) => f.function_id).sort()).toEqual([
    'orders::create',
    'orders::secret',
    'standalone',
  ]);
  expect(info.registered_triggers).toHaveLength(1);
  await expect(call('engine::workers::info', { name: 'ghost' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
});

test('engine::workers-available fires connected / metadata_updated / disconnected', async () => {
  const events: any[] = [];
  cat.registerFunction('watch::workers', async (e: unknown) => void events.push(e));
  cat.registerTrigger({ type: 'engine::workers-available', function_id: 'watch::workers', config: {} });
  await waitForFunction(cat, 'watch::workers');
  await sleep(50);
  const temp = connectWorker(engine.url, 'temp');
  await waitFor(() => events.some((e) => e.event === 'worker_metadata_updated'));
  await temp.shutdown();
  await waitFor(() => events.some((e) => e.event === 'worker_disconnected'));
  const id = events[0].worker_id;
  expect(events.filter((e) => e.worker_id === id).map((e) => e.event)).toEqual([
    'worker_connected',
    'worker_metadata_updated',
    'worker_disconnected',
  ]);
});

test('engine::functions-available fires functions_changed with the function list', async () => {
  const events: any[] = [];
  cat.registerFunction('watch::functions', async (e: unknown) => void events.push(e));
  cat.registerTrigger({ type: 'engine::functions-available', function_id: 'watch::functions', config: {} });
  await waitForFunction(cat, 'watch::functions');
  await sleep(250);
  events.length = 0;
  cat.registerFunction('brand::new', async () => 1);
  await waitFor(() => events.some((e) => e.functions.some((f: any) => f.function_id === 'brand::new')));
  expect(events.at(-1)).toMatchObject({
    event: 'functions_changed',
    functions: expect.arrayContaining([
      expect.objectContaining({ function_id: 'brand::new', worker_name: 'catalogue-worker' }),
    ]),
  });
});

test('engine::log::* accept a log line and return no result', async () => {
  await expect(call('engine::log::info', { message: 'hello from a worker', data: { a: 1 } })).resolves.toBeUndefined();
  await expect(call('engine::log::error', { message: 'bad' })).resolves.toBeUndefined();
});
