/**
 * Named queues end to end: real iii-sdk@0.22.1 workers enqueue with `TriggerAction.Enqueue` and
 * handle jobs; the engine runs in-process (`startEngine`, in-memory database).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IIIClient, TriggerAction } from 'iii-sdk';
import { BROKER_TYPE, type QueueTestEngine, startQueueTestEngine } from './helpers/queue-engine.js';
import { sleep, waitFor } from './helpers/queue-fake-engine.js';

let engine: QueueTestEngine;
let client: IIIClient;

beforeAll(async () => {
  engine = await startQueueTestEngine();
  client = engine.worker();
});

afterAll(async () => {
  await engine.close();
});

function enqueue(queue: string, functionId: string, payload: unknown, from: IIIClient = client) {
  return from.trigger<unknown, { messageReceiptId: string }>({
    function_id: functionId,
    payload,
    action: TriggerAction.Enqueue({ queue }),
  });
}

function define(queue: string, config: Record<string, unknown>) {
  return client.trigger<unknown, { queue: string; changed: boolean }>({
    function_id: 'queue::define',
    payload: { queue, config },
  });
}

function call<T = any>(functionId: string, payload: unknown): Promise<T> {
  return client.trigger<unknown, T>({ function_id: functionId, payload });
}

describe('enqueue errors', () => {
  it('rejects an unknown queue with enqueue_error', async () => {
    await expect(enqueue('no-such-queue', 'any::fn', { x: 1 })).rejects.toMatchObject({
      code: 'enqueue_error',
      message: expect.stringContaining("Queue 'no-such-queue' not found"),
    });
  });

  it('rejects a FIFO payload without its message_group_field (or with null)', async () => {
    await define('fifo-strict', { type: 'fifo', message_group_field: 'session_id' });
    await expect(enqueue('fifo-strict', 'any::fn', { other: 1 })).rejects.toMatchObject({
      code: 'enqueue_error',
      message: expect.stringContaining("payload field 'session_id'"),
    });
    await expect(enqueue('fifo-strict', 'any::fn', { session_id: null })).rejects.toMatchObject({
      code: 'enqueue_error',
    });
    await expect(enqueue('fifo-strict', 'any::fn', { session_id: 's1' })).resolves.toEqual({
      messageReceiptId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });
});

describe('queue::define', () => {
  it('is idempotent and reports changes', async () => {
    const config = { type: 'fifo', message_group_field: 'session_id', concurrency: 4 };
    await expect(define('turn-step', config)).resolves.toEqual({ queue: 'turn-step', changed: true });
    await expect(define('turn-step', config)).resolves.toEqual({ queue: 'turn-step', changed: false });
    await expect(define('turn-step', { ...config, concurrency: 8 })).resolves.toEqual({
      queue: 'turn-step',
      changed: true,
    });
    const stats = await call('engine::queue::topic_stats', { queue: 'turn-step' });
    expect(stats.config).toMatchObject({ type: 'fifo', message_group_field: 'session_id', concurrency: 8 });
  });

  it('rejects a bad config naming the key', async () => {
    await expect(define('bad', { type: 'fifo' })).rejects.toMatchObject({
      code: 'invalid_queue_config',
      message: expect.stringContaining('config.message_group_field is required'),
    });
    await expect(define('bad', { concurency: 2 })).rejects.toMatchObject({
      message: expect.stringContaining('config.concurency: unknown key'),
    });
  });
});

describe('retries and dead letters', () => {
  it('retries with exponential backoff, then dead-letters after max_retries', async () => {
    await define('retrying', { backoff_ms: 150, max_retries: 3 });
    const attempts: number[] = [];
    client.registerFunction('retry::always_fails', async () => {
      attempts.push(Date.now());
      throw new Error('handler exploded');
    });
    const { messageReceiptId } = await enqueue('retrying', 'retry::always_fails', { order: 7 });
    const messages = await pollUntil(
      () => call<any[]>('engine::queue::dlq_messages', { queue: 'retrying' }),
      (list) => list.length === 1,
    );
    expect(attempts).toHaveLength(3);
    const [first, second, third] = attempts as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(145); // 150 · 2^0
    expect(second - first).toBeLessThan(150 + 1500); // generous: the machine may be busy
    expect(third - second).toBeGreaterThanOrEqual(295); // 150 · 2^1
    expect(third - second).toBeLessThan(300 + 1500);
    expect(messages[0]).toMatchObject({
      id: messageReceiptId,
      queue: 'retrying',
      function_id: 'retry::always_fails',
      payload: { order: 7 },
      retries: 3,
      error: expect.stringContaining('handler exploded'),
      failed_at: expect.any(Number),
    });
    await sleep(400);
    expect(attempts).toHaveLength(3); // nothing after the dead letter
    const stats = await call('engine::queue::topic_stats', { queue: 'retrying' });
    expect(stats).toMatchObject({ depth: 0, dlq_depth: 1, failed: 3, delivered: 0 });
  });

  it('redrives all, redrives one message, and discards one message', async () => {
    await define('redrivable', { backoff_ms: 1, max_retries: 1 });
    let healthy = false;
    const handled: number[] = [];
    client.registerFunction('redrive::target', async (data: { n: number }) => {
      if (!healthy) throw new Error('not yet');
      handled.push(data.n);
      return null;
    });
    const receipts = [];
    for (const n of [1, 2, 3]) receipts.push((await enqueue('redrivable', 'redrive::target', { n })).messageReceiptId);
    await pollUntil(
      () => call<any[]>('engine::queue::dlq_messages', { queue: 'redrivable' }),
      (list) => list.length === 3,
    );
    expect(await call('engine::queue::dlq_topics', {})).toContainEqual({
      topic: 'redrivable',
      broker_type: BROKER_TYPE,
      message_count: 3,
    });
    const page = await call<any[]>('engine::queue::dlq_messages', { queue: 'redrivable', offset: 1, limit: 1 });
    expect(page.map((m) => m.id)).toEqual([receipts[1]]);

    healthy = true;
    await expect(
      call('iii::queue::redrive_message', { queue: 'redrivable', message_id: receipts[0] }),
    ).resolves.toEqual({ queue: 'redrivable', message_id: receipts[0], redriven: 1 });
    await waitFor(() => handled.length === 1, 'redriven message');
    expect(handled).toEqual([1]);

    await expect(
      call('iii::queue::discard_message', { topic: 'redrivable', message_id: receipts[1] }),
    ).resolves.toMatchObject({ queue: 'redrivable', message_id: receipts[1], discarded: 1 });
    await expect(
      call('iii::queue::discard_message', { queue: 'redrivable', message_id: receipts[1] }),
    ).resolves.toMatchObject({ discarded: 0 });

    await expect(call('iii::queue::redrive', { queue: 'redrivable' })).resolves.toEqual({
      queue: 'redrivable',
      redriven: 1,
    });
    await waitFor(() => handled.length === 2, 'redrive all');
    expect(handled).toEqual([1, 3]);
    await expect(call('engine::queue::dlq_messages', { queue: 'redrivable' })).resolves.toEqual([]);
  });
});

describe('ordering and concurrency', () => {
  it('keeps FIFO order within a group while different groups run in parallel', async () => {
    await define('fifo-groups', { type: 'fifo', message_group_field: 'session_id', concurrency: 4 });
    const spans: Array<{ session: string; step: number; start: number; end: number }> = [];
    let running = 0;
    let peak = 0;
    client.registerFunction('fifo::step', async (data: { session_id: string; step: number }) => {
      const start = Date.now();
      peak = Math.max(peak, ++running);
      await sleep(60);
      running--;
      spans.push({ session: data.session_id, step: data.step, start, end: Date.now() });
      return null;
    });
    for (let step = 1; step <= 4; step++) {
      await enqueue('fifo-groups', 'fifo::step', { session_id: 'A', step });
      await enqueue('fifo-groups', 'fifo::step', { session_id: 'B', step });
    }
    await waitFor(() => spans.length === 8, 'all steps', 10_000);
    for (const session of ['A', 'B']) {
      const mine = spans.filter((s) => s.session === session);
      expect(mine.map((s) => s.step)).toEqual([1, 2, 3, 4]);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.start).toBeGreaterThanOrEqual(mine[i - 1]!.end);
    }
    // Parallel groups: an A step and a B step were in flight at the same moment.
    expect(peak).toBe(2);
  });

  it('never runs more than `concurrency` jobs of a standard queue at once', async () => {
    await define('limited', { concurrency: 3 });
    let running = 0;
    let peak = 0;
    let done = 0;
    client.registerFunction('limited::work', async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep(40);
      running--;
      done++;
      return null;
    });
    await Promise.all(Array.from({ length: 12 }, (_, i) => enqueue('limited', 'limited::work', { i })));
    await waitFor(() => done === 12, 'all jobs');
    expect(peak).toBe(3);
  });
});

describe('waiting for the target', () => {
  it('holds a job until its function registers, without spending retries', async () => {
    await define('patient', { max_retries: 1, backoff_ms: 10 });
    await enqueue('patient', 'late::arrival', { hello: 'world' });
    await sleep(300);
    let stats = await call('engine::queue::topic_stats', { queue: 'patient' });
    expect(stats).toMatchObject({ depth: 1, failed: 0, in_flight: 0 });

    const late = engine.worker();
    const got: unknown[] = [];
    late.registerFunction('late::arrival', async (data) => {
      got.push(data);
      return null;
    });
    await waitFor(() => got.length === 1, 'late delivery');
    expect(got[0]).toEqual({ hello: 'world' }); // the enqueue path adds no _caller_worker_id
    stats = await call('engine::queue::topic_stats', { queue: 'patient' });
    expect(stats).toMatchObject({ failed: 0, delivered: 1, dlq_depth: 0 });
  });
});

describe('a worker that dies during a delivery', () => {
  it('fails the delivery with invocation_stopped and spends an attempt, as iii v0.22.1 does', async () => {
    // iii's queue calls the target and nacks on any error, this one included; a worker that
    // needs the step to survive crashes sizes its queue's retries for it (turn-step does).
    await define('mortal', { max_retries: 1, backoff_ms: 10 });
    const doomed = engine.worker();
    let started = false;
    doomed.registerFunction('mortal::target', () => {
      started = true;
      return new Promise(() => {}); // never answers: the worker goes away first
    });
    await enqueue('mortal', 'mortal::target', { n: 1 });
    await waitFor(() => started, 'delivery started');
    await doomed.shutdown();
    const dead = await pollUntil(
      () => call<any[]>('engine::queue::dlq_messages', { queue: 'mortal' }),
      (list) => list.length === 1,
    );
    expect(dead[0]).toMatchObject({ retries: 1, error: expect.stringMatching(/invocation.stopped/i) });
  });
});

describe('durable topics', () => {
  it('fans every message out to every subscribed function', async () => {
    const received: Record<string, number[]> = { audit: [], mailer: [] };
    const subscriberA = engine.worker();
    const subscriberB = engine.worker();
    for (const [worker, name] of [
      [subscriberA, 'audit'],
      [subscriberB, 'mailer'],
    ] as const) {
      worker.registerFunction(`topic::${name}`, async (data: { n: number }) => {
        received[name]!.push(data.n);
        return null;
      });
      worker.registerTrigger({
        type: 'durable:subscriber',
        function_id: `topic::${name}`,
        config: { topic: 'orders' },
      });
    }
    await pollUntil(
      () => call('engine::queue::topic_stats', { topic: 'orders' }),
      (stats) => stats.consumer_count === 2,
    );
    for (let n = 1; n <= 5; n++) {
      await expect(call('iii::durable::publish', { topic: 'orders', data: { n } })).resolves.toBeNull();
    }
    await waitFor(() => received.audit!.length === 5 && received.mailer!.length === 5, 'fan-out');
    expect(received.audit!.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(received.mailer!.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(await call('engine::queue::list_topics', {})).toContainEqual(
      expect.objectContaining({ name: 'orders', kind: 'topic', subscriber_count: 2 }),
    );
  });

  it('gives each subscriber its own retries and dead letters', async () => {
    const flaky = engine.worker();
    let calls = 0;
    flaky.registerFunction('topic::flaky', async () => {
      calls++;
      throw new Error('flaky subscriber');
    });
    flaky.registerTrigger({
      type: 'durable:subscriber',
      function_id: 'topic::flaky',
      config: { queue: 'payments', max_retries: 2, backoff_ms: 20 },
    });
    const steady = engine.worker();
    const ok: unknown[] = [];
    steady.registerFunction('topic::steady', async (data) => {
      ok.push(data);
      return null;
    });
    steady.registerTrigger({ type: 'durable:subscriber', function_id: 'topic::steady', config: { queue: 'payments' } });
    await pollUntil(
      () => call('engine::queue::topic_stats', { topic: 'payments' }),
      (stats) => stats.consumer_count === 2,
    );
    await call('iii::durable::publish', { queue: 'payments', data: { amount: 5 } });
    const dead = await pollUntil(
      () => call<any[]>('engine::queue::dlq_messages', { topic: 'payments' }),
      (list) => list.length === 1,
    );
    expect(dead[0]).toMatchObject({ function_id: 'topic::flaky', payload: { amount: 5 }, retries: 2 });
    expect(calls).toBe(2);
    expect(ok).toEqual([{ amount: 5 }]);
  });
});

describe('persistence across a graceful engine restart (same data dir)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'dev-engine-queue-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps definitions and in-flight jobs, and a shutdown spends no retry', async () => {
    const first = await startQueueTestEngine({ memory: false, dataDir });
    const producer = first.worker();
    const config = { type: 'fifo', message_group_field: 'k', max_retries: 1 };
    await expect(
      producer.trigger({ function_id: 'queue::define', payload: { queue: 'durable-q', config } }),
    ).resolves.toEqual({ queue: 'durable-q', changed: true });
    let started = 0;
    producer.registerFunction('durable::job', () => {
      started++;
      return new Promise(() => {}); // still running when the engine stops
    });
    await producer.trigger({
      function_id: 'durable::job',
      payload: { k: 'a', n: 1 },
      action: TriggerAction.Enqueue({ queue: 'durable-q' }),
    });
    await waitFor(() => started === 1, 'first delivery');
    await first.close();

    const second = await startQueueTestEngine({ memory: false, dataDir });
    try {
      const consumer = second.worker();
      await expect(
        consumer.trigger({ function_id: 'queue::define', payload: { queue: 'durable-q', config } }),
      ).resolves.toEqual({ queue: 'durable-q', changed: false });
      const got: unknown[] = [];
      consumer.registerFunction('durable::job', async (data) => {
        got.push(data);
        return null;
      });
      await waitFor(() => got.length === 1, 'redelivery after restart');
      expect(got[0]).toEqual({ k: 'a', n: 1 });
      // With max_retries 1, a retry spent by the shutdown would have dead-lettered the job.
      const stats = await consumer.trigger<unknown, { dlq_depth: number; failed: number }>({
        function_id: 'engine::queue::topic_stats',
        payload: { queue: 'durable-q' },
      });
      expect(stats).toMatchObject({ dlq_depth: 0, failed: 0 });
    } finally {
      await second.close();
    }
  });
});

/** Re-runs `fetch` until `done(result)` holds (or 5 s pass). */
async function pollUntil<T>(fetch: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fetch();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met; last value: ${JSON.stringify(value)}`);
    await sleep(20);
  }
}
