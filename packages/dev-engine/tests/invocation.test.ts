/**
 * Conformance: registration and invocation between two real iii-sdk@0.22.1 workers.
 */
import { type IIIClient, TriggerAction } from 'iii-sdk';
import type { RunningEngine } from '../src/index.js';
import {
  connectWorker,
  quietSdk,
  RawClient,
  sleep,
  startTestEngine,
  waitFor,
  waitForFunction,
} from './helpers/conformance.js';

let engine: RunningEngine;
let alice: IIIClient;
let bob: IIIClient;
const seen: Array<{ data: any; metadata: unknown }> = [];

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine();
  alice = connectWorker(engine.url, 'alice');
  bob = connectWorker(engine.url, 'bob');
  alice.registerFunction('math::add', async (data: any, metadata: unknown) => {
    seen.push({ data, metadata });
    return { sum: data.a + data.b };
  });
  alice.registerFunction('test.echo', async (data: unknown) => data);
  alice.registerFunction('test::null', async () => null);
  alice.registerFunction('test::boom', async () => {
    throw new Error('boom');
  });
  alice.registerFunction('test::slow', async (data: any) => {
    await sleep(data.ms);
    return 'late';
  });
  await waitForFunction(bob, 'test::slow');
});

afterAll(async () => {
  await alice.shutdown();
  await bob.shutdown();
  await engine.close();
});

test('a worker invokes a function registered by another worker', async () => {
  await expect(bob.trigger({ function_id: 'math::add', payload: { a: 2, b: 3 } })).resolves.toEqual({ sum: 5 });
});

test('dotted function ids are opaque strings and work', async () => {
  await expect(bob.trigger({ function_id: 'test.echo', payload: [1, 'two'] })).resolves.toEqual([1, 'two']);
});

test('the engine injects _caller_worker_id into object payloads, and passes metadata', async () => {
  seen.length = 0;
  const bobId = await waitFor(async () => {
    const { workers } = (await bob.trigger({ function_id: 'engine::workers::list', payload: {} })) as {
      workers: Array<{ name: string; id: string }>;
    };
    return workers.find((w) => w.name === 'bob')?.id;
  });
  await bob.trigger({ function_id: 'math::add', payload: { a: 1, b: 1 }, metadata: { source: 'test' } });
  expect(seen[0]!.data).toEqual({ a: 1, b: 1, _caller_worker_id: bobId });
  expect(seen[0]!.metadata).toEqual({ source: 'test' });
});

test('non-object payloads are passed untouched', async () => {
  await expect(bob.trigger({ function_id: 'test.echo', payload: 'just text' })).resolves.toBe('just text');
  await expect(bob.trigger({ function_id: 'test.echo', payload: 42 })).resolves.toBe(42);
});

test('a null result reaches the caller as undefined (no result field)', async () => {
  await expect(bob.trigger({ function_id: 'test::null', payload: {} })).resolves.toBeUndefined();
});

test('a throwing handler gives invocation_failed with its message', async () => {
  await expect(bob.trigger({ function_id: 'test::boom', payload: {} })).rejects.toMatchObject({
    code: 'invocation_failed',
    message: 'invocation_failed: boom',
  });
});

test('an unknown function fails at once with function_not_found', async () => {
  const started = Date.now();
  await expect(bob.trigger({ function_id: 'missing::fn', payload: {} })).rejects.toMatchObject({
    code: 'function_not_found',
    message: 'function_not_found: Function missing::fn not found',
  });
  expect(Date.now() - started).toBeLessThan(1000);
});

test('the engine sets no timeout: the SDK client timeout fires first', async () => {
  await expect(bob.trigger({ function_id: 'test::slow', payload: { ms: 600 }, timeoutMs: 150 })).rejects.toMatchObject({
    code: 'TIMEOUT',
  });
  // The late result is dropped by the engine (no pending invocation) and nothing breaks.
  await sleep(600);
  await expect(bob.trigger({ function_id: 'math::add', payload: { a: 1, b: 2 } })).resolves.toEqual({ sum: 3 });
});

test('void calls reach the target with an invocation id; the caller gets nothing', async () => {
  seen.length = 0;
  await expect(
    bob.trigger({ function_id: 'math::add', payload: { a: 4, b: 4 }, action: TriggerAction.Void() }),
  ).resolves.toBeUndefined();
  await waitFor(() => seen.length === 1);
  expect(seen[0]!.data).toMatchObject({ a: 4, b: 4, _caller_worker_id: expect.any(String) });
  // On the wire: the target receives an id even though the caller sent none.
  const raw = await RawClient.connect(engine.url);
  raw.send({ type: 'registerfunction', id: 'raw::target' });
  await waitForFunction(bob, 'raw::target');
  await bob.trigger({ function_id: 'raw::target', payload: { x: 1 }, action: TriggerAction.Void() });
  const frame = await raw.next((f) => f.type === 'invokefunction' && f.function_id === 'raw::target');
  expect(frame.invocation_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(frame.data).toEqual({ x: 1, _caller_worker_id: expect.any(String) });
  raw.send({
    type: 'invocationresult',
    invocation_id: frame.invocation_id,
    function_id: 'raw::target',
    result: 'discarded',
  });
  await raw.close();
});

test('invocations from one worker run concurrently', async () => {
  const started = Date.now();
  const results = await Promise.all(
    [300, 300, 300].map((ms) => bob.trigger({ function_id: 'test::slow', payload: { ms } })),
  );
  expect(results).toEqual(['late', 'late', 'late']);
  expect(Date.now() - started).toBeLessThan(800);
});

test('a target that disconnects mid-invocation gives callers invocation_stopped', async () => {
  const carol = connectWorker(engine.url, 'carol');
  carol.registerFunction('carol::hang', () => new Promise(() => undefined));
  await waitForFunction(bob, 'carol::hang');
  const pending = bob.trigger({ function_id: 'carol::hang', payload: {} });
  await sleep(100);
  await carol.shutdown();
  await expect(pending).rejects.toMatchObject({
    code: 'invocation_stopped',
    message: 'invocation_stopped: Invocation stopped',
  });
  // Its functions are gone with it.
  await expect(bob.trigger({ function_id: 'carol::hang', payload: {} })).rejects.toMatchObject({
    code: 'function_not_found',
  });
});

test('unregistering a function removes it', async () => {
  const dave = connectWorker(engine.url, 'dave');
  const ref = dave.registerFunction('dave::tmp', async () => 1);
  await waitForFunction(bob, 'dave::tmp');
  ref.unregister();
  await waitFor(async () =>
    bob.trigger({ function_id: 'dave::tmp', payload: {} }).then(
      () => false,
      (e) => e.code === 'function_not_found',
    ),
  );
  await dave.shutdown();
});

test('traceparent passes through; baggage too, with iii.function.id naming the target', async () => {
  const target = await RawClient.connect(engine.url);
  target.send({ type: 'registerfunction', id: 'trace::fn' });
  const caller = await RawClient.connect(engine.url);
  await waitForFunction(bob, 'trace::fn');
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const invocation_id = crypto.randomUUID();
  caller.send({
    type: 'invokefunction',
    invocation_id,
    function_id: 'trace::fn',
    data: {},
    traceparent,
    baggage: 'k=v,iii.function.id=caller%3A%3Afn',
  });
  const inbound = await target.next((f) => f.type === 'invokefunction');
  expect(inbound).toMatchObject({ invocation_id, traceparent, baggage: 'k=v,iii.function.id=trace%3A%3Afn' });
  target.send({
    type: 'invocationresult',
    invocation_id,
    function_id: 'trace::fn',
    result: { ok: true },
    traceparent,
    baggage: 'k=v2',
    extra_field: 'ignored',
  });
  const result = await caller.next((f) => f.type === 'invocationresult');
  expect(result).toEqual({
    type: 'invocationresult',
    invocation_id,
    function_id: 'trace::fn',
    result: { ok: true },
    traceparent,
    baggage: 'k=v2',
  });
  await target.close();
  await caller.close();
});

test('error wins over result in an invocationresult', async () => {
  const target = await RawClient.connect(engine.url);
  target.send({ type: 'registerfunction', id: 'both::fn' });
  await waitForFunction(bob, 'both::fn');
  const pending = bob.trigger({ function_id: 'both::fn', payload: {} });
  const inbound = await target.next((f) => f.type === 'invokefunction');
  target.send({
    type: 'invocationresult',
    invocation_id: inbound.invocation_id,
    function_id: 'both::fn',
    result: 1,
    error: { code: 'mine', message: 'nope' },
  });
  await expect(pending).rejects.toMatchObject({ code: 'mine', message: 'mine: nope' });
  await target.close();
});

describe('TriggerAction.Enqueue routing', () => {
  let bare: RunningEngine;
  beforeAll(async () => {
    bare = await startTestEngine({ config: { workerManager: {}, warnings: [] } }); // no queue module
  });
  afterAll(() => bare.close());

  test('without a queue provider the caller gets enqueue_error', async () => {
    const raw = await RawClient.connect(bare.url);
    const reply = await raw.invoke('math::add', { a: 1 }, { action: { type: 'enqueue', queue: 'default' } });
    expect(reply.error).toMatchObject({
      code: 'enqueue_error',
      message: expect.stringContaining('iii worker add queue'),
    });
    expect(reply.result).toBeUndefined();
    await raw.close();
  });

  test('enqueue calls engine::queue::enqueue (no _caller_worker_id) and replies {messageReceiptId}', async () => {
    const provider = connectWorker(bare.url, 'queue-provider');
    const calls: any[] = [];
    provider.registerFunction('engine::queue::enqueue', async (data: any) => {
      calls.push(data);
      if (data.queue === 'missing') throw new Error("Queue 'missing' not found");
      return { messageReceiptId: data.messageReceiptId };
    });
    const caller = connectWorker(bare.url, 'caller');
    await waitForFunction(caller, 'engine::queue::enqueue');
    const receipt = await caller.trigger({
      function_id: 'jobs::run',
      payload: { n: 1 },
      action: TriggerAction.Enqueue({ queue: 'jobs' }),
    });
    expect(receipt).toEqual({ messageReceiptId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(calls[0]).toMatchObject({
      queue: 'jobs',
      function_id: 'jobs::run',
      messageReceiptId: receipt.messageReceiptId,
    });
    expect(calls[0].data).toEqual({ n: 1 });
    await expect(
      caller.trigger({ function_id: 'jobs::run', payload: {}, action: TriggerAction.Enqueue({ queue: 'missing' }) }),
    ).rejects.toMatchObject({ code: 'enqueue_error', message: "enqueue_error: Queue 'missing' not found" });
    await provider.shutdown();
    await caller.shutdown();
  });
});
