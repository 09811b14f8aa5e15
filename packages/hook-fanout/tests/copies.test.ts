import { subscribeHook, type WorkerSpec } from '@iii-harness/runtime';
import {
  connectClient,
  type DevEngine,
  eventually,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contract, contracts, type HookEnvelope } from '@iii-harness/types';
import { z } from 'zod';
import { type Config, configSchema, hookFanoutWorker } from '../src/index.js';
import { type Deps, publishCollect } from '../src/publish-collect.js';
import { reply, wake } from '../src/reply.js';
import { sweep } from '../src/sweep.js';
import { Waiters, WindowStore } from '../src/windows.js';

/**
 * With several engines, a subscriber's reply reaches the hook-fanout copy of ITS engine, not
 * necessarily the one that published the hook. Copy A is the real worker; copy B is the same
 * handlers under `copy_b::*` ids (two copies cannot share ids on one engine), with its own
 * in-process waiters, sharing A's state scope and wake topic. Both poll only once a minute, so a
 * window closes early only when the wake-up through pub/sub works.
 */
const { hookFanout } = contracts;
const config = configSchema.parse({ poll_ms: 60_000, max_timeout_ms: 60_000 });

const copyB: WorkerSpec<Config> = {
  name: 'copy_b',
  description: 'a second copy of hook-fanout, under other function ids',
  config: configSchema,
  register(worker) {
    const deps: Deps = {
      windows: new WindowStore(worker.bus, worker.config.state_scope),
      waiters: new Waiters(),
      config: worker.config,
    };
    worker.function(contract({ ...hookFanout.publishCollect, id: 'copy_b::publish_collect' }), publishCollect(deps));
    worker.function(contract({ ...hookFanout.reply, id: 'copy_b::reply' }), reply(deps));
    worker.function(contract({ ...hookFanout.wake, id: 'copy_b::wake' }), wake(deps));
    worker.trigger({ type: 'subscribe', function_id: 'copy_b::wake', config: { topic: worker.config.wake_topic } });
    worker.function(contract({ ...hookFanout.sweep, id: 'copy_b::sweep' }), sweep(deps));
  },
};

let engine: DevEngine;
let a: TestWorker<Config>;
let b: TestWorker<Config>;
let client: TestClient;
const workers: Array<TestWorker<unknown>> = [];

/** A subscriber that answers through `replyVia` (`copy_b::reply`: it lives on copy B's engine). */
async function subscriber(topic: string, id: string, replyVia: string, times = 1) {
  const spec: WorkerSpec<unknown> = {
    name: id.split('::')[0]!,
    description: 'hook subscriber',
    config: z.object({}),
    register(worker) {
      worker.function(
        contract({ ...hookFanout.subscriber(id), description: 'answers' }),
        async (hook: HookEnvelope, { bus }) => {
          for (let i = 0; i < times; i++)
            await bus.invoke(replyVia, { hook_id: hook.hook_id, subscriber: id, reply: { from: id, i } });
          return { replied: true };
        },
      );
      worker.trigger({ type: 'durable:subscriber', function_id: id, config: { topic } });
    },
  };
  workers.push(await startTestWorker(spec, { url: engine.url }));
}

beforeAll(async () => {
  engine = await startDevEngine();
  a = await startTestWorker(hookFanoutWorker, { url: engine.url, config });
  b = await startTestWorker(copyB, { url: engine.url, config });
  client = await connectClient(engine.url);
  await subscriber('via::b', 'viab::answer', 'copy_b::reply');
  await subscriber('twice::b', 'twice::answer', 'copy_b::reply', 2);
  const spec: WorkerSpec<unknown> = {
    name: 'viaa',
    description: 'hook subscriber on copy A',
    config: z.object({}),
    register: (w) => subscribeHook(w, { topic: 'via::a', function_id: 'viaa::answer', handler: () => ({ ok: 'a' }) }),
  };
  workers.push(await startTestWorker(spec, { url: engine.url }));
}, 60_000);

afterAll(async () => {
  await client?.close();
  for (const w of workers) await w.shutdown();
  await b?.shutdown();
  await a?.shutdown();
  await engine?.close();
});

const windowsLeft = async () => (await client.bus.state.list(config.state_scope)).length;

it('collects a reply that reached another copy, woken through pub/sub rather than at the deadline', async () => {
  const result = await client.bus.call(hookFanout.publishCollect, {
    topic: 'via::b',
    payload: { n: 1 },
    merge_rule: 'field_merge',
    timeout_ms: 45_000,
  });
  expect(result).toMatchObject({
    published: true,
    timed_out: false,
    replies: [{ subscriber: 'viab::answer', reply: { from: 'viab::answer', i: 0 } }],
    merged: { from: 'viab::answer', i: 0 },
  });
  // The copy that took the reply was not the one waiting: it had to publish the wake-up.
  expect(b.logs.lines().filter((l) => l.level === 'warn')).toEqual([]);
  expect(await windowsLeft()).toBe(0);
}, 60_000);

it('works the other way round: published by copy B, answered through copy A', async () => {
  const result = (await client.bus.invoke('copy_b::publish_collect', {
    topic: 'via::a',
    payload: {},
    merge_rule: 'pipeline_last_wins',
    timeout_ms: 45_000,
  })) as { timed_out: boolean; merged: unknown };
  expect(result).toMatchObject({ timed_out: false, merged: { ok: 'a' } });
  expect(await windowsLeft()).toBe(0);
}, 60_000);

it('counts a subscriber once when its hook is delivered (and answered) twice', async () => {
  const result = await client.bus.call(hookFanout.publishCollect, {
    topic: 'twice::b',
    payload: {},
    merge_rule: 'pipeline_last_wins',
    timeout_ms: 1_000,
    expected_replies: 2,
  });
  expect(result).toMatchObject({ timed_out: true, merged: { i: 0 } });
  expect(result.replies).toHaveLength(1);
});

it('refuses a reply once the window has closed, on every copy, leaving nothing behind', async () => {
  const { hook_id } = await client.bus.call(hookFanout.publishCollect, {
    topic: 'via::b',
    payload: {},
    merge_rule: 'field_merge',
    timeout_ms: 45_000,
  });
  for (const id of [hookFanout.reply.id, 'copy_b::reply'])
    expect(await client.bus.invoke(id, { hook_id, reply: 'late' })).toEqual({ accepted: false });
  expect(await client.bus.invoke('copy_b::reply', { hook_id: 'never-published', reply: 'x' })).toEqual({
    accepted: false,
  });
  expect(await windowsLeft()).toBe(0);
}, 60_000);

it('sweeps windows a dead publisher left behind (by hand here; one copy per scheduled run on the cron)', async () => {
  const old = Date.now() - config.max_timeout_ms - 120_000;
  await client.bus.state.set(config.state_scope, 'dead-1', {
    hook_id: 'dead-1',
    deadline: old + 1_000,
    opened_at: old,
    replies: [],
  });
  await client.bus.state.set(config.state_scope, 'stub-1', { hook_id: 'stub-1', replies: [{ reply: 1, at: old }] });
  await client.bus.state.set(config.state_scope, 'young', {
    hook_id: 'young',
    deadline: Date.now(),
    opened_at: Date.now(),
    replies: [],
  });
  expect(await client.bus.invoke('copy_b::sweep', {})).toEqual({ removed: 2 });
  expect(await client.bus.state.list(config.state_scope)).toEqual([expect.objectContaining({ hook_id: 'young' })]);
  await client.bus.state.delete(config.state_scope, 'young');
  // The cron claim: the same scheduled run is swept by one copy only.
  const tick = { scheduled_time: new Date().toISOString() };
  const results = await Promise.all([
    client.bus.call(hookFanout.sweep, tick),
    client.bus.invoke('copy_b::sweep', tick),
  ]);
  expect(results.filter((r) => (r as { skipped?: boolean }).skipped)).toHaveLength(1);
  await eventually(async () => expect(await windowsLeft()).toBe(0));
});
