import { subscribeHook, type WorkerSpec } from '@iii-harness/runtime';
import {
  connectClient,
  type DevEngine,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { type ContractInput, contracts, type JsonObject } from '@iii-harness/types';
import { z } from 'zod';
import { type Config, hookFanoutWorker, mergeReplies } from '../src/index.js';

const { hookFanout, engine: builtins } = contracts;

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
  // Confines reads to the workspace by rewriting the path (and lets everything else run as asked).
  await subscriber('agent::before_function_call', 'jail::paths', (p: { function_id: string; args: JsonObject }) =>
    p.function_id === 'fs::read' ? { args: { ...p.args, path: `/workspace/${p.args.path}` } } : { block: false },
  );
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

const publish = (input: ContractInput<typeof hookFanout.publishCollect>) =>
  client.bus.call(hookFanout.publishCollect, input) as Promise<any>;

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
      subscribers: ['audit::log', 'guard::no_rm', 'jail::paths'],
      timed_out: false,
      merged: { block: true, reason: 'no rm' },
    });
    expect(result.replies).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('allows when nobody blocks, and merges fields', async () => {
    const payload = { function_id: 'shell::exec', args: { command: 'ls' } };
    expect(
      (await publish({ topic: 'agent::before_function_call', payload, merge_rule: 'first_block_wins' })).merged,
    ).toEqual({ block: false, audited: true });
    expect(
      (await publish({ topic: 'agent::before_function_call', payload, merge_rule: 'field_merge' })).merged,
    ).toEqual({ block: false, audited: true });
  });

  it('lets a subscriber rewrite the arguments of a call it does not block (first_block_wins)', async () => {
    const result = await publish({
      topic: 'agent::before_function_call',
      payload: { function_id: 'fs::read', args: { path: 'notes.txt', encoding: 'utf8' } },
      merge_rule: 'first_block_wins',
    });
    expect(result.merged).toEqual({
      block: false,
      audited: true,
      args: { path: '/workspace/notes.txt', encoding: 'utf8' },
    });
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
    // Test-side inspection of the engine's queue topics (no contract: the harness never calls it).
    const topics = (await client.bus.invoke('engine::queue::list_topics', {})) as Array<{ name: string }>;
    expect(topics.map((t) => t.name)).not.toContain('agent::nobody_listens');
  });

  it('bounds the wait when a subscriber does not answer, and refuses late replies', async () => {
    const started = Date.now();
    const result = await publish({ topic: 'silent::topic', payload: {}, merge_rule: 'field_merge', timeout_ms: 300 });
    expect(result).toMatchObject({ published: true, timed_out: true, replies: [], merged: {} });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await client.bus.call(hookFanout.reply, { hook_id: result.hook_id, reply: { late: true } })).toEqual({
      accepted: false,
    });
  });

  it.each([
    ['hook-fanout::publish_collect', { topic: '', payload: {}, merge_rule: 'field_merge' }],
    ['hook-fanout::publish_collect', { topic: 't', payload: {}, merge_rule: 'majority' }],
    ['hook-fanout::publish_collect', { topic: 't', payload: {}, merge_rule: 'field_merge', timeout_ms: -1 }],
    ['hook-fanout::reply', { reply: {} }],
  ])('%s rejects %j with invalid_payload', async (id, payload) => {
    await expect(client.bus.invoke(id, payload)).rejects.toMatchObject({ code: 'invalid_payload' });
  });

  it('documents both functions', async () => {
    for (const { id } of [hookFanout.publishCollect, hookFanout.reply]) {
      expect(await client.bus.call(builtins.functionsInfo, { function_id: id })).toMatchObject({
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
    expect(mergeReplies('first_block_wins', [{ args: { a: 1 } }, 'text', { args: { a: 2 }, note: 'x' }])).toEqual({
      block: false,
      args: { a: 2 },
      note: 'x',
    });
    expect(mergeReplies('first_block_wins', [])).toEqual({ block: false });
    expect(mergeReplies('field_merge', [{ a: 1, b: 1 }, 'text', { b: 2 }])).toEqual({ a: 1, b: 2 });
    expect(mergeReplies('pipeline_last_wins', [1, 2, 3])).toBe(3);
  });
});
