/**
 * Conformance at the frame level (raw sockets): greeting, ping, ordering, undecodable frames,
 * oversized frames, binary JSON, telemetry frames, /otel.
 */
import type { IIIClient } from 'iii-sdk';
import { pino } from 'pino';
import WebSocket from 'ws';
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let engine: RunningEngine;
let sdk: IIIClient;

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine({ maxPayload: 64 * 1024 });
  sdk = connectWorker(engine.url, 'bystander');
  sdk.registerFunction('bystander::ping', async () => 'pong');
  await waitForFunction(sdk, 'bystander::ping');
});

afterAll(async () => {
  await sdk.shutdown();
  await engine.close();
});

test('the first frame on every connection is workerregistered {worker_id, reattach_token}', async () => {
  const raw = await RawClient.connect(engine.url);
  await raw.next((f) => f.type === 'workerregistered');
  const first = JSON.parse(raw.rawTexts[0]!);
  expect(first).toEqual({
    type: 'workerregistered',
    worker_id: expect.stringMatching(UUID),
    reattach_token: expect.stringMatching(UUID),
  });
  expect(first.worker_id).not.toBe(first.reattach_token);
  await raw.close();
});

test('a protocol ping gets a pong', async () => {
  const raw = await RawClient.connect(engine.url);
  raw.send({ type: 'ping' });
  await expect(raw.next((f) => f.type === 'pong')).resolves.toEqual({ type: 'pong' });
  await raw.close();
});

test('frames of one connection are handled in order (register, then invoke, in one burst)', async () => {
  const raw = await RawClient.connect(engine.url);
  const id = crypto.randomUUID();
  raw.send({ type: 'registerfunction', id: 'burst::fn' });
  raw.send({ type: 'invokefunction', invocation_id: id, function_id: 'burst::fn', data: { n: 1 } });
  const call = await raw.next((f) => f.type === 'invokefunction' && f.function_id === 'burst::fn');
  raw.send({ type: 'invocationresult', invocation_id: call.invocation_id, function_id: 'burst::fn', result: 'ok' });
  await expect(raw.next((f) => f.type === 'invocationresult' && f.invocation_id === id)).resolves.toMatchObject({
    result: 'ok',
  });
  // A builtin trigger registration completes before the next frame: the write right after it fires it.
  const tid = crypto.randomUUID();
  raw.send({ type: 'registerfunction', id: 'burst::on_state' });
  raw.send({
    type: 'registertrigger',
    id: tid,
    trigger_type: 'state',
    function_id: 'burst::on_state',
    config: { scope: 'burst' },
  });
  raw.send({
    type: 'invokefunction',
    invocation_id: crypto.randomUUID(),
    function_id: 'state::set',
    data: { scope: 'burst', key: 'k', value: 1 },
  });
  await expect(
    raw.next((f) => f.type === 'invokefunction' && f.function_id === 'burst::on_state'),
  ).resolves.toMatchObject({ data: { event_type: 'state:created' } });
  await raw.close();
});

describe('undecodable frames are dropped, never crash, never close the socket', () => {
  const badFrames: Array<[string, string]> = [
    ['malformed JSON', '{"type":"invokefunction",'],
    ['not an object', '[1,2,3]'],
    ['a bare null', 'null'],
    ['unknown type', JSON.stringify({ type: 'teleport', id: 'x' })],
    ['missing type', JSON.stringify({ id: 'x' })],
    [
      'invokefunction without data',
      JSON.stringify({ type: 'invokefunction', invocation_id: crypto.randomUUID(), function_id: 'bystander::ping' }),
    ],
    [
      'function_id of the wrong type',
      JSON.stringify({ type: 'invokefunction', invocation_id: crypto.randomUUID(), function_id: 42, data: {} }),
    ],
    [
      'non-UUID invocation_id',
      JSON.stringify({ type: 'invokefunction', invocation_id: 'not-a-uuid', function_id: 'bystander::ping', data: {} }),
    ],
    [
      'unknown action',
      JSON.stringify({
        type: 'invokefunction',
        invocation_id: crypto.randomUUID(),
        function_id: 'bystander::ping',
        data: {},
        action: { type: 'teleport' },
      }),
    ],
    [
      'registertrigger without config',
      JSON.stringify({ type: 'registertrigger', id: 't1', trigger_type: 'state', function_id: 'f' }),
    ],
    ['registerfunction with a numeric id', JSON.stringify({ type: 'registerfunction', id: 7 })],
    [
      'invocationresult with a bad ErrorBody',
      JSON.stringify({ type: 'invocationresult', invocation_id: crypto.randomUUID(), function_id: 'f', error: 'boom' }),
    ],
    [
      'unregistertriggertype (not in the v0.22.1 enum)',
      JSON.stringify({ type: 'unregistertriggertype', id: 'x', description: '' }),
    ],
  ];

  test.each(badFrames)('%s', async (_label, text) => {
    const raw = await RawClient.connect(engine.url);
    await raw.next((f) => f.type === 'workerregistered');
    raw.send(text);
    // Nothing comes back for the bad frame, and the same socket keeps working.
    const reply = await raw.invoke('bystander::ping', {});
    expect(reply.result).toBe('pong');
    expect(raw.frames.filter((f) => f.type === 'invocationresult')).toHaveLength(1);
    expect(raw.closed).toBe(false);
    await raw.close();
    // ...and other connections are unaffected.
    await expect(sdk.trigger({ function_id: 'bystander::ping', payload: {} })).resolves.toBe('pong');
  });

  test('a result with a bad ErrorBody is dropped: the caller keeps waiting for a valid one', async () => {
    const target = await RawClient.connect(engine.url);
    target.send({ type: 'registerfunction', id: 'bad::error' });
    await waitForFunction(sdk, 'bad::error');
    const pending = sdk.trigger({ function_id: 'bad::error', payload: {} });
    const call = await target.next((f) => f.type === 'invokefunction');
    target.send({
      type: 'invocationresult',
      invocation_id: call.invocation_id,
      function_id: 'bad::error',
      error: { code: 1 },
    });
    await sleep(100);
    target.send({
      type: 'invocationresult',
      invocation_id: call.invocation_id,
      function_id: 'bad::error',
      result: 'second try',
    });
    await expect(pending).resolves.toBe('second try');
    await target.close();
  });

  test('unknown fields are ignored (e.g. the v0.23 namespace)', async () => {
    const raw = await RawClient.connect(engine.url);
    const reply = await raw.invoke('bystander::ping', {}, { namespace: 'default', something_else: [1] });
    expect(reply.result).toBe('pong');
    await raw.close();
  });
});

test('an oversized frame closes only that socket; the engine and others keep working', async () => {
  const raw = await RawClient.connect(engine.url);
  await raw.next((f) => f.type === 'workerregistered');
  const code = new Promise<number>((resolve) => raw.ws.once('close', (c) => resolve(c)));
  raw.send({ type: 'invokefunction', function_id: 'bystander::ping', data: 'x'.repeat(128 * 1024) });
  await expect(code).resolves.toBe(1009);
  await expect(sdk.trigger({ function_id: 'bystander::ping', payload: {} })).resolves.toBe('pong');
  const again = await RawClient.connect(engine.url);
  expect((await again.invoke('bystander::ping', {})).result).toBe('pong');
  await again.close();
});

test('JSON in a binary frame is accepted; OTLP/MTRC/LOGS binary frames are telemetry and ignored', async () => {
  const raw = await RawClient.connect(engine.url);
  await raw.next((f) => f.type === 'workerregistered');
  for (const prefix of ['OTLP', 'MTRC', 'LOGS'])
    raw.ws.send(Buffer.from(`${prefix}{"resourceSpans":[]}`), { binary: true });
  const id = crypto.randomUUID();
  raw.ws.send(
    Buffer.from(
      JSON.stringify({ type: 'invokefunction', invocation_id: id, function_id: 'bystander::ping', data: {} }),
    ),
    { binary: true },
  );
  await expect(raw.next((f) => f.invocation_id === id)).resolves.toMatchObject({ result: 'pong' });
  expect(raw.frames.map((f) => f.type)).toEqual(['workerregistered', 'invocationresult']);
  await raw.close();
});

test('/otel is accepted, frames discarded, and it is never a worker', async () => {
  const otel = new WebSocket(`${engine.url}/otel`);
  const received: string[] = [];
  otel.on('message', (d) => received.push(d.toString()));
  await new Promise((resolve, reject) => {
    otel.once('open', resolve);
    otel.once('error', reject);
  });
  otel.send(Buffer.from('OTLP{"resourceSpans":[]}'));
  otel.send(Buffer.from('LOGS{"resourceLogs":[]}'));
  await sleep(100);
  expect(received).toEqual([]);
  expect(otel.readyState).toBe(WebSocket.OPEN);
  otel.close();
});

test('unknown upgrade paths and plain HTTP are refused', async () => {
  const res = await fetch(engine.url.replace('ws://', 'http://'));
  expect(res.status).toBe(426);
  const bad = new WebSocket(`${engine.url}/nope`);
  const status = await new Promise<number | undefined>((resolve) =>
    bad.once('unexpected-response', (_req, r) => resolve(r.statusCode)).once('error', () => resolve(undefined)),
  );
  expect(status).toBe(404);
});

test('reattach with the right token evicts the previous connection before the replay', async () => {
  const old = await RawClient.connect(engine.url);
  await old.next((f) => f.type === 'workerregistered');
  const { worker_id, reattach_token } = old.frames[0]!;
  old.send({ type: 'registerfunction', id: 'reattach::fn' });
  await waitForFunction(sdk, 'reattach::fn');

  // A wrong token is ignored: the old connection stays.
  const impostor = await RawClient.connect(engine.url);
  impostor.send({ type: 'reattach', previous_worker_id: worker_id, reattach_token: crypto.randomUUID() });
  impostor.send({ type: 'ping' });
  await impostor.next((f) => f.type === 'pong');
  expect(old.closed).toBe(false);
  await impostor.close();

  const fresh = await RawClient.connect(engine.url);
  fresh.send({ type: 'reattach', previous_worker_id: worker_id, reattach_token });
  fresh.send({ type: 'registerfunction', id: 'reattach::fn' });
  await waitFor(() => old.closed);
  // The replayed registration landed on a clean slate and is owned by the new connection.
  const pending = sdk.trigger({ function_id: 'reattach::fn', payload: {} });
  const call = await fresh.next((f) => f.type === 'invokefunction');
  fresh.send({
    type: 'invocationresult',
    invocation_id: call.invocation_id,
    function_id: 'reattach::fn',
    result: 'from fresh',
  });
  await expect(pending).resolves.toBe('from fresh');
  await fresh.close();
});

test('a dropped frame is logged at warn level with the reason', async () => {
  const lines: Array<{ level: number; msg: string; reason?: string }> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const logged = await startTestEngine({ logger });
  const raw = await RawClient.connect(logged.url);
  raw.send('{not json');
  raw.send({ type: 'invokefunction', function_id: 'x' });
  raw.send({ type: 'ping' });
  await raw.next((f) => f.type === 'pong');
  const drops = lines.filter((l) => l.msg === 'dropping undecodable frame');
  expect(drops.map((l) => [l.level, l.reason?.split(':')[0]])).toEqual([
    [40, 'invalid JSON'],
    [40, 'missing field `data`'],
  ]);
  await raw.close();
  await logged.close();
});
