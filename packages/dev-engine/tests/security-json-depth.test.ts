/**
 * Issue 10, finding 10: a payload nested ~10,000 deep was accepted, could not be serialized
 * again to be forwarded, and the caller waited until the target disconnected. Now the engine
 * stops at the real engine's serde limit (128 levels) where JSON enters — frames, results,
 * HTTP bodies — and answers whoever waits with a structured error at once. Nothing crashes.
 */
import type { IIIClient } from 'iii-sdk';
import type { RunningEngine } from '../src/index.js';
import {
  connectWorker,
  quietSdk,
  RawClient,
  startTestEngine,
  waitFor,
  waitForFunction,
} from './helpers/conformance.js';

/** `[[[...0...]]]` with `depth` levels of arrays. */
const nestedText = (depth: number) => `${'['.repeat(depth)}0${']'.repeat(depth)}`;

let engine: RunningEngine;
let worker: IIIClient;
const received: unknown[] = [];

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine();
  worker = connectWorker(engine.url, 'deep');
  worker.registerFunction('deep::echo', async (data: unknown) => {
    received.push(data);
    return 'ok';
  });
  await waitForFunction(worker, 'deep::echo');
});

afterAll(async () => {
  await worker.shutdown();
  await engine.close();
});

const invokeText = (invocationId: string, functionId: string, dataText: string) =>
  `{"type":"invokefunction","invocation_id":"${invocationId}","function_id":"${functionId}","data":${dataText}}`;

test.each([
  ['a worker function', 'deep::echo'],
  ['a builtin', 'state::set'],
])('a 10,000-deep payload to %s gets a structured error at once, and is never delivered', async (_what, fn) => {
  const raw = await RawClient.connect(engine.url);
  const id = crypto.randomUUID();
  const before = received.length;
  raw.send(invokeText(id, fn, `{"scope":"s","key":"k","value":${nestedText(10_000)}}`));
  const result = await raw.next((f) => f.type === 'invocationresult' && f.invocation_id === id);
  expect(result.error).toEqual({
    code: 'deserialization_error',
    message: 'invokefunction rejected: JSON nested deeper than 128 levels',
  });
  expect(received.length).toBe(before);
  // The socket is still usable.
  await expect(raw.invoke('deep::echo', { fine: true })).resolves.toMatchObject({ result: 'ok' });
  await raw.close();
});

test('the limit is the real engine’s: 128 levels pass, 129 do not', async () => {
  const raw = await RawClient.connect(engine.url);
  const ok = crypto.randomUUID();
  raw.send(invokeText(ok, 'deep::echo', nestedText(127))); // + the frame object = 128
  await expect(raw.next((f) => f.invocation_id === ok)).resolves.toMatchObject({ result: 'ok' });
  const tooDeep = crypto.randomUUID();
  raw.send(invokeText(tooDeep, 'deep::echo', nestedText(128)));
  await expect(raw.next((f) => f.invocation_id === tooDeep)).resolves.toMatchObject({
    error: { code: 'deserialization_error' },
  });
  await raw.close();
});

test('a target answering with a too-deep result fails the call instead of leaving it waiting', async () => {
  const target = await RawClient.connect(engine.url);
  target.send({ type: 'registerfunction', id: 'deep::liar' });
  await waitForFunction(worker, 'deep::liar');
  const call = worker.trigger({ function_id: 'deep::liar', payload: {} });
  const invoke = await target.next((f) => f.type === 'invokefunction' && f.function_id === 'deep::liar');
  target.send(
    `{"type":"invocationresult","invocation_id":"${invoke.invocation_id}","function_id":"deep::liar","result":${nestedText(5000)}}`,
  );
  await expect(call).rejects.toMatchObject({ code: 'deserialization_error' });
  await target.close();
});

test('a too-deep HTTP JSON body reaches the handler as body: null, like invalid JSON', async () => {
  const bodies: unknown[] = [];
  worker.registerFunction('deep::http', async (req: { body: unknown }) => {
    bodies.push(req.body);
    return { body: { seen: true } };
  });
  worker.registerTrigger({
    type: 'http',
    function_id: 'deep::http',
    config: { api_path: 'deep', http_method: 'POST' },
  });
  await waitFor(async () => (await fetch(`${engine.httpUrl}/deep`, { method: 'POST' })).status === 200);
  const res = await fetch(`${engine.httpUrl}/deep`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: nestedText(10_000),
  });
  expect(res.status).toBe(200);
  expect(bodies.at(-1)).toBeNull();
});

test('an HTTP JSON body above the size limit is refused with 413', async () => {
  const small = await startTestEngine({ maxPayload: 1024 });
  const w = connectWorker(small.url, 'small');
  try {
    w.registerFunction('small::http', async () => ({ body: 'ok' }));
    w.registerTrigger({ type: 'http', function_id: 'small::http', config: { api_path: 'in', http_method: 'POST' } });
    await waitFor(async () => (await fetch(`${small.httpUrl}/in`, { method: 'POST' })).status === 200);
    const res = await fetch(`${small.httpUrl}/in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ blob: 'x'.repeat(4096) }),
    });
    expect(res.status).toBe(413);
  } finally {
    await w.shutdown();
    await small.close();
  }
});
