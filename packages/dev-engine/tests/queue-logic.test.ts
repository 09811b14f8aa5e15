/**
 * Queue module logic against a fake in-process engine: config validation, persistence across a
 * restart on the same database file, timeouts, subscription durability. The wire-level behaviour
 * (real iii-sdk clients) is covered by queue.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backoffDelay } from '../src/queue/backoff.js';
import { parseQueueModuleConfig } from '../src/queue/config.js';
import { installQueues } from '../src/queue/index.js';
import { FakeEngine, sleep, waitFor } from './helpers/queue-fake-engine.js';

const FIFO = { type: 'fifo', message_group_field: 'session_id', backoff_ms: 20, max_retries: 3 };

describe('queue config', () => {
  it('fills in defaults and always has a default queue', async () => {
    expect(parseQueueModuleConfig({ queue_configs: { jobs: {} } }).queues.jobs).toEqual({
      type: 'standard',
      max_retries: 3,
      concurrency: 10,
      backoff_ms: 1000,
      poll_interval_ms: 100,
      timeout_ms: 1_800_000,
    });
    const engine = new FakeEngine();
    await installQueues(engine, {});
    await expect(
      engine.call('engine::queue::enqueue', { queue: 'default', function_id: 'x', data: {}, messageReceiptId: 'm1' }),
    )
      .resolves.toEqual({ messageReceiptId: 'm1' })
      .finally(() => engine.close());
  });

  it.each([
    [{ queue_configs: { q: { tpye: 'fifo' } } }, 'queue_configs.q.tpye: unknown key'],
    [{ queue_configs: { q: { type: 'fifo' } } }, 'queue_configs.q.message_group_field is required'],
    [{ queue_configs: { q: { type: 'lifo' } } }, 'queue_configs.q.type must be "standard" or "fifo"'],
    [{ queue_configs: { q: { concurrency: 0 } } }, 'queue_configs.q.concurrency must be an integer >= 1'],
    [{ queue_configs: { q: { max_retries: 1.5 } } }, 'queue_configs.q.max_retries must be an integer'],
    [{ queue_config: {} }, 'queue_config: unknown key'],
  ])('rejects %j naming the bad key', (config, message) => {
    expect(() => parseQueueModuleConfig(config)).toThrow(`iii-queue config: ${message}`);
  });

  it('computes exponential backoff', () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(1000, n))).toEqual([1000, 2000, 4000, 8000]);
  });
});

describe('queue delivery (fake engine)', () => {
  let engine: FakeEngine;
  afterEach(() => engine?.close());

  it('dead-letters after max_retries failures, with backoff between attempts', async () => {
    engine = new FakeEngine();
    await installQueues(engine, { queue_configs: { jobs: { backoff_ms: 40, max_retries: 3 } } });
    const attempts: number[] = [];
    engine.provide('work', () => {
      attempts.push(Date.now());
      throw new Error('boom');
    });
    await engine.call('engine::queue::enqueue', {
      queue: 'jobs',
      function_id: 'work',
      data: { n: 1 },
      messageReceiptId: 'r1',
    });
    await waitFor(
      () => attempts.length === 3 && engine.db.prepare('SELECT COUNT(*) n FROM queue_dead_letters').get(),
      'dlq',
    );
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(38);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(78);
    const messages = (await engine.call('engine::queue::dlq_messages', { queue: 'jobs' })) as any[];
    expect(messages).toEqual([
      expect.objectContaining({
        id: 'r1',
        function_id: 'work',
        payload: { n: 1 },
        retries: 3,
        error: 'invocation_failed: boom',
      }),
    ]);
    await sleep(200);
    expect(attempts).toHaveLength(3);
  });

  it('fails a delivery that exceeds timeout_ms and retries it', async () => {
    engine = new FakeEngine();
    await installQueues(engine, { queue_configs: { slow: { timeout_ms: 30, backoff_ms: 10, max_retries: 2 } } });
    let calls = 0;
    engine.provide('hang', () => {
      calls++;
      return new Promise(() => {});
    });
    await engine.call('engine::queue::enqueue', {
      queue: 'slow',
      function_id: 'hang',
      data: {},
      messageReceiptId: 't1',
    });
    const messages = await waitFor(() => {
      const rows = engine.db.prepare('SELECT error FROM queue_dead_letters').all() as Array<{ error: string }>;
      return rows.length > 0 && rows;
    }, 'timeout dead letter');
    expect(calls).toBe(2);
    expect(messages[0]!.error).toBe('timeout: Function hang timed out after 30ms');
  });

  it('passes trace context but no metadata to queue targets', async () => {
    engine = new FakeEngine();
    await installQueues(engine, {});
    const seen: unknown[] = [];
    engine.provide('traced', (_data, options) => void seen.push(options));
    await engine.call('engine::queue::enqueue', {
      queue: 'default',
      function_id: 'traced',
      data: {},
      messageReceiptId: 'x',
      traceparent: '00-abc-def-01',
    });
    await waitFor(() => seen.length === 1, 'delivery');
    expect(seen[0]).toEqual({ traceparent: '00-abc-def-01' });
  });
});

describe('queue persistence across an engine restart (same database file)', () => {
  let dir: string;
  let engine: FakeEngine | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'queue-logic-'));
  });
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function restart(config: object = {}): Promise<FakeEngine> {
    await engine?.close();
    engine = new FakeEngine(join(dir, 'engine.db'));
    await installQueues(engine, config);
    return engine;
  }

  it('redelivers unacknowledged jobs in FIFO order per group, waiting for the target without spending retries', async () => {
    let e = await restart({ queue_configs: { turns: FIFO } });
    // No handler registered: jobs wait.
    for (const [session, step] of [
      ['a', 1],
      ['b', 1],
      ['a', 2],
      ['b', 2],
      ['a', 3],
    ] as const) {
      await e.call('engine::queue::enqueue', {
        queue: 'turns',
        function_id: 'turn::step',
        data: { session_id: session, step },
        messageReceiptId: `${session}${step}`,
      });
    }
    await sleep(50);
    expect(e.calls.filter((c) => c.functionId === 'turn::step')).toHaveLength(0);

    e = await restart({ queue_configs: { turns: FIFO } });
    const seen: string[] = [];
    await sleep(30); // still no target: nothing delivered, no retries spent
    e.provide(
      'turn::step',
      (data: { session_id: string; step: number }) => void seen.push(`${data.session_id}${data.step}`),
    );
    await waitFor(() => seen.length === 5, 'redelivery');
    expect(seen.filter((s) => s.startsWith('a'))).toEqual(['a1', 'a2', 'a3']);
    expect(seen.filter((s) => s.startsWith('b'))).toEqual(['b1', 'b2']);
    const attempts = e.db.prepare('SELECT COUNT(*) AS n FROM queue_dead_letters').get() as { n: number };
    expect(attempts.n).toBe(0);
  });

  it('keeps queue::define definitions, dead letters and retry counts across a restart', async () => {
    let e = await restart();
    await expect(e.call('queue::define', { queue: 'turn-step', config: FIFO })).resolves.toEqual({
      queue: 'turn-step',
      changed: true,
    });
    await expect(e.call('queue::define', { queue: 'turn-step', config: FIFO })).resolves.toEqual({
      queue: 'turn-step',
      changed: false,
    });
    e.provide('fails', () => {
      throw new Error('nope');
    });
    await e.call('engine::queue::enqueue', {
      queue: 'turn-step',
      function_id: 'fails',
      data: { session_id: 's' },
      messageReceiptId: 'd1',
    });
    await waitFor(
      () => (e.calls.filter((c) => c.functionId === 'fails').length === 1 ? true : undefined),
      'first failure',
    );
    await sleep(5);

    e = await restart();
    await expect(e.call('queue::define', { queue: 'turn-step', config: FIFO })).resolves.toEqual({
      queue: 'turn-step',
      changed: false,
    });
    let calls = 0;
    e.provide('fails', () => {
      calls++;
      throw new Error('still no');
    });
    // One failure was spent before the restart: two more reach max_retries = 3.
    await waitFor(() => calls === 2 && (e.db.prepare('SELECT * FROM queue_dead_letters').get() as object), 'dlq');
    await sleep(100);
    expect(calls).toBe(2);

    e = await restart();
    expect(await e.call('engine::queue::dlq_topics', {})).toEqual([
      { topic: 'turn-step', broker_type: 'builtin', message_count: 1 },
    ]);
  });

  it('jobs enqueued after the queue emptied (their seq values reused) are redelivered once, in order', async () => {
    let e = await restart({ queue_configs: { turns: FIFO } });
    const first: number[] = [];
    e.provide('turn::step', (data: { step: number }) => void first.push(data.step));
    for (const step of [1, 2])
      await e.call('engine::queue::enqueue', {
        queue: 'turns',
        function_id: 'turn::step',
        data: { session_id: 's', step },
      });
    await waitFor(() => first.length === 2, 'first delivery');
    await waitFor(
      () => (e.db.prepare('SELECT COUNT(*) AS n FROM queue_jobs').get() as { n: number }).n === 0 || undefined,
      'acks',
    );
    e.remove('turn::step');
    for (const step of [3, 4, 5])
      await e.call('engine::queue::enqueue', {
        queue: 'turns',
        function_id: 'turn::step',
        data: { session_id: 's', step },
      });

    e = await restart({ queue_configs: { turns: FIFO } });
    const second: number[] = [];
    e.provide('turn::step', (data: { step: number }) => void second.push(data.step));
    await waitFor(() => second.length === 3, 'redelivery');
    await sleep(30);
    expect(second).toEqual([3, 4, 5]);
    expect(first).toEqual([1, 2]);
  });

  it('spends no retry on deliveries the engine shutdown interrupts', async () => {
    let e = await restart({ queue_configs: { once: { max_retries: 1 } } });
    let started = 0;
    e.provide('slow', () => {
      started++;
      return new Promise(() => {});
    });
    await e.call('engine::queue::enqueue', { queue: 'once', function_id: 'slow', data: {}, messageReceiptId: 's1' });
    await waitFor(() => started === 1, 'delivery');
    await e.shutdownLikeRouter();
    engine = undefined;

    e = await restart({ queue_configs: { once: { max_retries: 1 } } });
    const got: unknown[] = [];
    e.provide('slow', (data) => void got.push(data));
    await waitFor(() => got.length === 1, 'redelivery');
    expect(e.db.prepare('SELECT COUNT(*) AS n FROM queue_dead_letters').get()).toEqual({ n: 0 });
  });

  it('keeps durable subscriptions across a subscriber disconnect and an engine restart', async () => {
    let e = await restart();
    e.provide('audit', () => undefined);
    const binding = { id: 't1', trigger_type: 'durable:subscriber', function_id: 'audit', config: { topic: 'events' } };
    await e.registerTrigger(binding);
    // Disconnect: the engine removes functions first, then the worker's triggers.
    e.remove('audit');
    await e.unregisterTrigger(binding);
    await e.call('iii::durable::publish', { topic: 'events', data: { n: 1 } });

    e = await restart();
    await e.call('iii::durable::publish', { topic: 'events', data: { n: 2 } });
    const got: unknown[] = [];
    e.provide('audit', (data) => void got.push(data));
    await waitFor(() => got.length === 2, 'both messages');
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);

    // A deliberate unsubscribe (function still registered) ends the subscription.
    await e.registerTrigger(binding);
    await e.unregisterTrigger(binding);
    await e.call('iii::durable::publish', { topic: 'events', data: { n: 3 } });
    await sleep(30);
    expect(got).toHaveLength(2);
  });
});
