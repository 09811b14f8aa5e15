/**
 * Several dev engines sharing one Redis (state, streams, pubsub, cron locks) and one RabbitMQ
 * (queues, durable topics), started here from Debian's redis-server and rabbitmq-server: what one
 * engine writes the others read, updates are atomic per key across engines, a message reaches the
 * subscribers on every engine, a queue's jobs are shared out (each delivered once) among the
 * engines' workers, and jobs an engine held when it went away are finished by another.
 */
import { type IIIClient, TriggerAction } from 'iii-sdk';
import { Redis } from 'ioredis';
import { parseConfig, type RunningEngine } from '../src/index.js';
import { type LocalService, startRabbitMq, startRedisServer } from '../src/services.js';
import {
  connectWorker,
  quietSdk,
  RawClient,
  sleep,
  startTestEngine,
  waitFor,
  waitForFunction,
} from './helpers/conformance.js';

jest.setTimeout(120_000);

let redis: LocalService;
let rabbit: LocalService;
let a: RunningEngine;
let b: RunningEngine;
let wa: IIIClient;
let wb: IIIClient;
const extra: IIIClient[] = [];

function sharedConfig() {
  return parseConfig(
    `
workers:
  - name: iii-worker-manager
  - name: iii-state
    config: { adapter: { name: redis, config: { redis_url: "${redis.url}" } } }
  - name: iii-stream
    config: { adapter: { name: redis, config: { redis_url: "${redis.url}" } } }
  - name: iii-pubsub
    config: { adapter: { name: redis, config: { redis_url: "${redis.url}" } } }
  - name: iii-cron
    config: { adapter: { name: redis, config: { redis_url: "${redis.url}" } } }
  - name: iii-queue
    config:
      adapter: { name: rabbitmq, config: { amqp_url: "${rabbit.url}" } }
      queue_configs:
        jobs: { concurrency: 5, backoff_ms: 20, max_retries: 2 }
        ordered: { type: fifo, message_group_field: g, concurrency: 5 }
`,
    {},
  );
}

const startShared = () => startTestEngine({ config: sharedConfig() });

function worker(engine: RunningEngine, name: string): IIIClient {
  const w = connectWorker(engine.url, name);
  extra.push(w);
  return w;
}

beforeAll(async () => {
  quietSdk();
  [redis, rabbit] = await Promise.all([startRedisServer(), startRabbitMq()]);
  [a, b] = await Promise.all([startShared(), startShared()]);
  wa = worker(a, 'wa');
  wb = worker(b, 'wb');
});

afterAll(async () => {
  await Promise.all(extra.map((w) => w.shutdown()));
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([redis?.stop(), rabbit?.stop()]);
});

const call = (w: IIIClient, function_id: string, payload: unknown) => w.trigger({ function_id, payload });

test('state written through one engine is read through the other; list and groups agree', async () => {
  await call(wa, 'state::set', { scope: 'shared', key: 'k1', value: { from: 'a' } });
  await call(wb, 'state::set', { scope: 'shared', key: 'k2', value: { from: 'b' } });
  await expect(call(wb, 'state::get', { scope: 'shared', key: 'k1' })).resolves.toEqual({ from: 'a' });
  await expect(call(wa, 'state::list', { scope: 'shared' })).resolves.toEqual(
    expect.arrayContaining([{ from: 'a' }, { from: 'b' }]),
  );
  await expect(call(wb, 'state::list_groups', {})).resolves.toMatchObject({
    groups: expect.arrayContaining(['shared']),
  });
  await expect(call(wa, 'state::delete', { scope: 'shared', key: 'k2' })).resolves.toEqual({ from: 'b' });
  await expect(call(wb, 'state::get', { scope: 'shared', key: 'k2' })).resolves.toBeUndefined();
});

test('state::update is atomic per key across engines: 200 concurrent increments, each value seen once', async () => {
  const increments = Array.from({ length: 200 }, (_, i) =>
    call(i % 2 ? wa : wb, 'state::update', {
      scope: 'counters',
      key: 'c',
      ops: [
        { type: 'increment', path: 'n', by: 1 },
        { type: 'append', path: 'log', value: i },
      ],
    }),
  ) as Array<Promise<{ new_value: { n: number; log: number[] } }>>;
  const results = await Promise.all(increments);
  const seen = results.map((r) => r.new_value.n).sort((x, y) => x - y);
  expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  const final = (await call(wa, 'state::get', { scope: 'counters', key: 'c' })) as { n: number; log: number[] };
  expect(final.n).toBe(200);
  expect([...final.log].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i));
});

test("stream items are shared; changes are published on Redis and fire the writing engine's triggers", async () => {
  const listener = new Redis(redis.url);
  const published: unknown[] = [];
  await listener.subscribe('stream::events');
  listener.on('message', (_channel, message) => published.push(JSON.parse(message)));
  const seenOnA: unknown[] = [];
  const seenOnB: unknown[] = [];
  wa.registerFunction('multi::on_stream_a', async (event: unknown) => void seenOnA.push(event));
  wb.registerFunction('multi::on_stream_b', async (event: unknown) => void seenOnB.push(event));
  wa.registerTrigger({ type: 'stream', function_id: 'multi::on_stream_a', config: { stream_name: 'chat' } });
  wb.registerTrigger({ type: 'stream', function_id: 'multi::on_stream_b', config: { stream_name: 'chat' } });
  await waitForFunction(wa, 'multi::on_stream_a');
  await waitForFunction(wb, 'multi::on_stream_b');
  await sleep(50);

  await call(wa, 'stream::set', { stream_name: 'chat', group_id: 'room:1', item_id: 'm1', data: { text: 'hi' } });
  await call(wa, 'stream::send', { stream_name: 'chat', group_id: 'room:1', type: 'typing', data: { who: 'x' } });
  await expect(call(wb, 'stream::list', { stream_name: 'chat', group_id: 'room:1' })).resolves.toEqual([
    { text: 'hi' },
  ]);
  await expect(call(wb, 'stream::list_groups', { stream_name: 'chat' })).resolves.toEqual(['room:1']);
  await waitFor(() => seenOnA.length === 2 && published.length === 2);
  expect(published).toEqual([
    expect.objectContaining({
      streamName: 'chat',
      groupId: 'room:1',
      id: 'm1',
      event: { type: 'create', data: { text: 'hi' } },
    }),
    expect.objectContaining({ event: { type: 'event', event: { type: 'typing', data: { who: 'x' } } } }),
  ]);
  // As in the real engine, a `stream` trigger fires on the engine that made the change only.
  await sleep(100);
  expect(seenOnB).toEqual([]);
  listener.disconnect();
});

test('a publish on one engine reaches the subscribers on every engine, once each', async () => {
  const got: string[] = [];
  wa.registerFunction('multi::sub_a', async (data: { n: number }) => void got.push(`a${data.n}`));
  wb.registerFunction('multi::sub_b', async (data: { n: number }) => void got.push(`b${data.n}`));
  wa.registerTrigger({ type: 'subscribe', function_id: 'multi::sub_a', config: { topic: 'news' } });
  wb.registerTrigger({ type: 'subscribe', function_id: 'multi::sub_b', config: { topic: 'news' } });
  await waitForFunction(wa, 'multi::sub_a');
  await waitForFunction(wb, 'multi::sub_b');
  await sleep(100); // SUBSCRIBE is asynchronous towards Redis
  await call(wa, 'publish', { topic: 'news', data: { n: 1 } });
  await call(wb, 'publish', { topic: 'news', data: { n: 2 } });
  await waitFor(() => got.length === 4);
  await sleep(100);
  expect(got.sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
});

test('a cron job held by two engines (the same trigger) fires once per tick', async () => {
  const fires: Array<{ engine: string; scheduled: string }> = [];
  const clients = await Promise.all([RawClient.connect(a.url), RawClient.connect(b.url)]);
  const triggerId = crypto.randomUUID();
  clients.forEach((raw, i) => {
    raw.send({ type: 'registerfunction', id: 'multi::tick' });
    raw.send({
      type: 'registertrigger',
      id: triggerId,
      trigger_type: 'cron',
      function_id: 'multi::tick',
      config: { expression: '* * * * * *' },
    });
    // Answer every fire at once (a fast job releases its lock before the other engine wakes).
    const answered = new Set<string>();
    const pump = setInterval(() => {
      for (const f of raw.frames) {
        if (f.type !== 'invokefunction' || answered.has(f.invocation_id)) continue;
        answered.add(f.invocation_id);
        fires.push({ engine: i ? 'b' : 'a', scheduled: f.data.scheduled_time });
        raw.send({ type: 'invocationresult', invocation_id: f.invocation_id, function_id: 'multi::tick', result: {} });
      }
    }, 5);
    raw.ws.once('close', () => clearInterval(pump));
  });
  await waitFor(() => fires.length >= 4, { timeoutMs: 10_000 });
  await Promise.all(clients.map((raw) => raw.close()));
  const ticks = fires.map((f) => f.scheduled);
  expect(new Set(ticks).size).toBe(ticks.length);
});

/** Registers `id` on a worker of each engine; records which engine ran each payload. */
function onBothEngines(id: string, handler: (payload: any) => Promise<unknown> = async () => ({})) {
  const runs: Array<{ engine: 'a' | 'b'; payload: any }> = [];
  wa.registerFunction(id, async (payload: any) => {
    runs.push({ engine: 'a', payload });
    return handler(payload);
  });
  wb.registerFunction(id, async (payload: any) => {
    runs.push({ engine: 'b', payload });
    return handler(payload);
  });
  return runs;
}

const enqueue = (w: IIIClient, queue: string, function_id: string, payload: unknown) =>
  w.trigger({ function_id, payload, action: TriggerAction.Enqueue({ queue }) });

test('a named queue is shared: every job runs once, both engines take part', async () => {
  const runs = onBothEngines('multi::job', () => sleep(10));
  await waitForFunction(wa, 'multi::job');
  await waitForFunction(wb, 'multi::job');
  await Promise.all(Array.from({ length: 100 }, (_, n) => enqueue(n % 2 ? wa : wb, 'jobs', 'multi::job', { n })));
  await waitFor(() => runs.length >= 100, { timeoutMs: 30_000 });
  await sleep(200);
  expect(runs.map((r) => r.payload.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, n) => n));
  expect(runs.some((r) => r.engine === 'a') && runs.some((r) => r.engine === 'b')).toBe(true);
});

test('fifo: each engine runs one job of a group at a time, in order; every job runs once', async () => {
  const running = new Map<string, number>();
  const runs: Array<{ engine: string; g: string; n: number }> = [];
  let overlapOnOneEngine = false;
  const track = (engine: string) => async (payload: { g: string; n: number }) => {
    const key = `${engine}/${payload.g}`;
    running.set(key, (running.get(key) ?? 0) + 1);
    if ((running.get(key) ?? 0) > 1) overlapOnOneEngine = true;
    runs.push({ engine, ...payload });
    await sleep(5);
    running.set(key, (running.get(key) ?? 0) - 1);
  };
  wa.registerFunction('multi::ordered', track('a'));
  wb.registerFunction('multi::ordered', track('b'));
  await waitForFunction(wa, 'multi::ordered');
  await waitForFunction(wb, 'multi::ordered');
  for (let n = 0; n < 10; n++)
    for (const g of ['x', 'y', 'z']) await enqueue(wa, 'ordered', 'multi::ordered', { g, n });
  await waitFor(() => runs.length >= 30, { timeoutMs: 30_000 });
  await sleep(200);
  expect(overlapOnOneEngine).toBe(false);
  expect(runs.map((r) => `${r.g}${r.n}`).sort()).toEqual(
    ['x', 'y', 'z'].flatMap((g) => Array.from({ length: 10 }, (_, n) => `${g}${n}`)).sort(),
  );
  // Within one engine, a group's jobs run in enqueue order.
  for (const engine of ['a', 'b'])
    for (const g of ['x', 'y', 'z']) {
      const order = runs.filter((r) => r.engine === engine && r.g === g).map((r) => r.n);
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
});

test('retries then a dead letter, visible from either engine; redrive runs it again', async () => {
  let fail = true;
  const runs = onBothEngines('multi::flaky', async () => {
    if (fail) throw new Error('boom');
    return {};
  });
  await waitForFunction(wa, 'multi::flaky');
  await waitForFunction(wb, 'multi::flaky');
  const { messageReceiptId } = (await enqueue(wa, 'jobs', 'multi::flaky', { k: 1 })) as { messageReceiptId: string };
  await waitFor(
    async () => ((await call(wb, 'engine::queue::topic_stats', { queue: 'jobs' })) as any).dlq_depth === 1,
    {
      timeoutMs: 15_000,
    },
  );
  expect(runs).toHaveLength(2); // max_retries: 2 failed deliveries
  const letters = (await call(wb, 'engine::queue::dlq_messages', { queue: 'jobs' })) as any[];
  expect(letters).toEqual([
    expect.objectContaining({ id: messageReceiptId, function_id: 'multi::flaky', payload: { k: 1 }, retries: 2 }),
  ]);
  expect(letters[0].error).toMatch(/boom/);
  await expect(call(wa, 'engine::queue::dlq_topics', {})).resolves.toEqual([
    { topic: 'jobs', broker_type: 'rabbitmq', message_count: 1 },
  ]);
  fail = false;
  await expect(call(wa, 'iii::queue::redrive', { queue: 'jobs' })).resolves.toEqual({ queue: 'jobs', redriven: 1 });
  await waitFor(() => runs.length === 3, { timeoutMs: 10_000 });
  await expect(call(wb, 'engine::queue::dlq_messages', { queue: 'jobs' })).resolves.toEqual([]);
});

test('durable topics: each subscribed function gets every message once, its copies on both engines competing', async () => {
  const first = onBothEngines('multi::topic_one');
  const second: number[] = [];
  wb.registerFunction('multi::topic_two', async (p: { n: number }) => void second.push(p.n));
  for (const [w, id] of [
    [wa, 'multi::topic_one'],
    [wb, 'multi::topic_one'],
    [wb, 'multi::topic_two'],
  ] as const)
    w.registerTrigger({ type: 'durable:subscriber', function_id: id, config: { topic: 'orders' } });
  await waitFor(async () => {
    const stats = (await call(wa, 'engine::queue::topic_stats', { topic: 'orders' })) as { consumer_count: number };
    const other = (await call(wb, 'engine::queue::topic_stats', { topic: 'orders' })) as { consumer_count: number };
    return stats.consumer_count === 1 && other.consumer_count === 2;
  });
  for (let n = 0; n < 30; n++) await call(n % 2 ? wa : wb, 'iii::durable::publish', { topic: 'orders', data: { n } });
  await waitFor(() => first.length >= 30 && second.length >= 30, { timeoutMs: 15_000 });
  await sleep(200);
  expect(first.map((r) => r.payload.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, n) => n));
  expect(second.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, n) => n));
});

test('jobs held by an engine that goes away are delivered to another engine', async () => {
  const c = await startShared();
  const wc = worker(c, 'wc');
  const startedOnC: number[] = [];
  const finished: number[] = [];
  wc.registerFunction('multi::slow', async (p: { n: number }) => {
    startedOnC.push(p.n);
    await new Promise(() => undefined); // never finishes: its engine goes first
  });
  await waitForFunction(wc, 'multi::slow');
  for (let n = 0; n < 10; n++) await enqueue(wc, 'jobs', 'multi::slow', { n });
  // A and B take their share too, parked until the function appears on them.
  await waitFor(() => startedOnC.length >= 1);
  for (const w of [wa, wb]) w.registerFunction('multi::slow', async (p: { n: number }) => void finished.push(p.n));
  await waitForFunction(wa, 'multi::slow');
  await waitForFunction(wb, 'multi::slow');
  await c.close();
  await waitFor(() => new Set(finished).size >= 10, { timeoutMs: 20_000 });
  expect([...new Set(finished)].sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, n) => n));
  for (const n of startedOnC) expect(finished).toContain(n);
});
