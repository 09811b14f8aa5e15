import { subscribeHook, type WorkerSpec } from '@iii-harness/runtime';
import {
  connectClient,
  type DevEngine,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { z } from 'zod';
import { type Config, hookFanoutWorker, mergeReplies } from '../src/index.js';

let engine: DevEngine;
let fanout: TestWorker<Config>;
let client: TestClient;
const subscribers: Array<TestWorker<unknown>> = [];

/** A worker subscribing `function_id` to `topic` with `handler`. */
async function subscriber(topic: string, function_id: string, handler: (payload: any) => unknown) {
  const spec: WorkerSpec<unknown> = {
    name: function_id.split('::')[0]!,
    description: 'hook subscriber',
    config: z.object({}),
    register: (w) => subscribeHook(w, { topic, function_id, handler }),
  };
  const worker = await startTestWorker(spec, { url: engine.url });
  subscribers.push(worker);
  return worker;
}

beforeAll(async () => {
  engine = await startDevEngine();
  fanout = await startTestWorker(hookFanoutWorker, { url: engine.url });
  client = await connectClient(engine.url);
  await subscriber('agent::before_function_call', 'guard::no_rm', (p: { args?: { command?: string } }) =>
    p.args?.command?.startsWith('rm') ? { block: true, reason: 'no rm' } : { block: false },
  );
  await subscriber('agent::before_function_call', 'audit::log', () => ({ block: false, audited: true }));
  await subscriber('agent::after_function_call', 'rewriter::upper', (p: { result: string }) => ({
    result: p.result.toUpperCase(),
  }));
  await subscriber('silent::topic', 'mute::never', () => undefined);
});

afterAll(async () => {
  await client.close();
  for (const s of subscribers) await s.shutdown();
  await fanout.shutdown();
  await engine.close();
});

const publish = (input: Record<string, unknown>) => client.bus.call<any>('hook-fanout::publish_collect', input);

describe('hook-fanout::publish_collect', () => {
  it('lets one subscriber block a call (first_block_wins) and waits only for the subscribers it found', async () => {
    const started = Date.now();
    const result = await publish({
      topic: 'agent::before_function_call',
      payload: { function_id: 'shell::exec', args: { command: 'rm -rf /' } },
      merge_rule: 'first_block_wins',
      timeout_ms: 5_000,
    });
    expect(result).toMatchObject({
      published: true,
      subscribers: ['audit::log', 'guard::no_rm'],
      timed_out: false,
      merged: { block: true, reason: 'no rm' },
    });
    expect(result.replies).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('allows when nobody blocks, and merges fields', async () => {
    const payload = { function_id: 'shell::exec', args: { command: 'ls' } };
    expect(
      (await publish({ topic: 'agent::before_function_call', payload, merge_rule: 'first_block_wins' })).merged,
    ).toEqual({ block: false });
    expect(
      (await publish({ topic: 'agent::before_function_call', payload, merge_rule: 'field_merge' })).merged,
    ).toEqual({ block: false, audited: true });
  });

  it('lets a subscriber rewrite a result (pipeline_last_wins)', async () => {
    const result = await publish({
      topic: 'agent::after_function_call',
      payload: { result: 'done' },
      merge_rule: 'pipeline_last_wins',
    });
    expect(result.merged).toEqual({ result: 'DONE' });
  });

  it('publishes nothing when nobody subscribes', async () => {
    const result = await publish({ topic: 'agent::nobody_listens', payload: {}, merge_rule: 'pipeline_last_wins' });
    expect(result).toEqual({ published: false, subscribers: [], replies: [], merged: null, timed_out: false });
    const topics = await client.bus.call<Array<{ name: string }>>('engine::queue::list_topics', {});
    expect(topics.map((t) => t.name)).not.toContain('agent::nobody_listens');
  });

  it('bounds the wait when a subscriber does not answer, and refuses late replies', async () => {
    const started = Date.now();
    const result = await publish({ topic: 'silent::topic', payload: {}, merge_rule: 'field_merge', timeout_ms: 300 });
    expect(result).toMatchObject({ published: true, timed_out: true, replies: [], merged: {} });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await client.bus.call('hook-fanout::reply', { hook_id: result.hook_id, reply: { late: true } })).toEqual({
      accepted: false,
    });
  });

  it.each([
    ['hook-fanout::publish_collect', { topic: '', payload: {}, merge_rule: 'field_merge' }],
    ['hook-fanout::publish_collect', { topic: 't', payload: {}, merge_rule: 'majority' }],
    ['hook-fanout::publish_collect', { topic: 't', payload: {}, merge_rule: 'field_merge', timeout_ms: -1 }],
    ['hook-fanout::reply', { reply: {} }],
  ])('%s rejects %j with invalid_payload', async (id, payload) => {
    await expect(client.bus.call(id, payload)).rejects.toMatchObject({ code: 'invalid_payload' });
  });

  it('documents both functions', async () => {
    for (const id of ['hook-fanout::publish_collect', 'hook-fanout::reply']) {
      expect(await client.bus.call('engine::functions::info', { function_id: id })).toMatchObject({
        description: expect.any(String),
        request_schema: { type: 'object' },
        response_schema: { type: 'object' },
      });
    }
  });
});

describe('mergeReplies', () => {
  it('follows each rule', () => {
    expect(
      mergeReplies('first_block_wins', [{ decision: 'allow' }, { decision: 'deny', reason: 'a' }, { block: true }]),
    ).toEqual({ decision: 'deny', reason: 'a' });
    expect(mergeReplies('field_merge', [{ a: 1, b: 1 }, 'text', { b: 2 }])).toEqual({ a: 1, b: 2 });
    expect(mergeReplies('pipeline_last_wins', [1, 2, 3])).toBe(3);
  });
});
