/**
 * HTTP-invoked functions (`registerfunction` with an `invocation`, iii-http-functions), through
 * iii-sdk@0.22.1 the way the SDK's `http-external-functions` integration test uses them: durable
 * topic deliveries and direct calls reach the webhook with the payload, headers and method;
 * the webhook's answer is the result; unregistering (or disconnecting) stops deliveries; the
 * URL policy is enforced.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IIIClient } from 'iii-sdk';
import { parseConfig, type RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, sleep, startTestEngine, waitFor } from './helpers/conformance.js';

jest.setTimeout(30_000);

interface Captured {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

class WebhookProbe {
  readonly received: Captured[] = [];
  reply: (c: Captured) => { status: number; body: string } = () => ({ status: 200, body: '{"ok":true}' });
  private server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const captured = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: raw ? JSON.parse(raw) : null,
    };
    this.received.push(captured);
    const { status, body } = this.reply(captured);
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  start = () => new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise<void>((resolve) => this.server.close(() => resolve()));
  url(path = '/webhook') {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }
}

const CONFIG = `
workers:
  - name: iii-worker-manager
    config: { port: 0 }
  - name: iii-queue
  - name: iii-http-functions
    config:
      security:
        url_allowlist: [localhost, 127.0.0.1]
        block_private_ips: false
        require_https: false
`;

let engine: RunningEngine;
let iii: IIIClient;
let probe: WebhookProbe;
const unique = (prefix: string) => `${prefix}::${Date.now()}::${Math.random().toString(36).slice(2, 8)}`;

const listed = async (id: string) =>
  ((await iii.trigger({ function_id: 'engine::functions::list', payload: {} })) as any).functions.some(
    (f: { function_id: string }) => f.function_id === id,
  );

beforeAll(async () => {
  quietSdk();
  process.env.TEST_HTTP_FN_TOKEN = 'secret-token';
  engine = await startTestEngine({ config: parseConfig(CONFIG, {}) });
  iii = connectWorker(engine.url, 'http-fns');
});

beforeEach(async () => {
  probe = new WebhookProbe();
  await probe.start();
});

afterEach(() => probe.close());

afterAll(async () => {
  await iii.shutdown();
  await engine.close();
});

test('durable topic messages are delivered to the webhook (POST, payload as body)', async () => {
  const fn = unique('test::http_external::target');
  const topic = unique('test.http_external.topic');
  const ref = iii.registerFunction(fn, { url: probe.url(), method: 'POST', timeout_ms: 3000 });
  await waitFor(() => listed(fn));
  const trigger = iii.registerTrigger({ type: 'durable:subscriber', function_id: fn, config: { topic } });
  await sleep(200);
  await iii.trigger({ function_id: 'iii::durable::publish', payload: { topic, data: { hello: 'world', count: 1 } } });
  const hook = await waitFor(() => probe.received[0]);
  expect(hook).toMatchObject({ method: 'POST', url: '/webhook', body: { hello: 'world', count: 1 } });
  expect(hook.headers).toMatchObject({
    'content-type': 'application/json',
    'x-iii-function-path': fn,
    'x-iii-invocation-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
    'x-iii-timestamp': expect.stringMatching(/^\d+$/),
  });
  trigger.unregister();
  ref.unregister();
});

test('a direct call returns the webhook answer; custom headers, PUT and bearer auth are sent', async () => {
  const fn = unique('test::http_external::direct');
  probe.reply = (c) => ({ status: 200, body: JSON.stringify({ got: c.body, method: c.method }) });
  const ref = iii.registerFunction(fn, {
    url: probe.url('/direct'),
    method: 'PUT',
    timeout_ms: 3000,
    headers: { 'X-Custom-Header': 'test-value' },
    auth: { type: 'bearer', token_key: 'TEST_HTTP_FN_TOKEN' },
  } as never);
  await waitFor(() => listed(fn));
  const result = await iii.trigger({ function_id: fn, payload: { q: 1 } });
  expect(result).toEqual({ got: { q: 1, _caller_worker_id: expect.any(String) }, method: 'PUT' });
  expect(probe.received[0]!.headers).toMatchObject({
    'x-custom-header': 'test-value',
    authorization: 'Bearer secret-token',
  });
  ref.unregister();
});

test('webhook errors become the caller error; an empty 204 is no result', async () => {
  const failing = unique('test::http_external::failing');
  probe.reply = (c) =>
    c.url === '/fail'
      ? { status: 502, body: JSON.stringify({ error: { code: 'UPSTREAM_ERROR', message: 'upstream failed' } }) }
      : c.url === '/plain'
        ? { status: 400, body: 'bad request' }
        : { status: 204, body: '' };
  const a = iii.registerFunction(failing, { url: probe.url('/fail') });
  const plain = unique('test::http_external::plain');
  const b = iii.registerFunction(plain, { url: probe.url('/plain') });
  const empty = unique('test::http_external::empty');
  const c = iii.registerFunction(empty, { url: probe.url('/empty') });
  await waitFor(() => listed(empty));
  await expect(iii.trigger({ function_id: failing, payload: {} })).rejects.toMatchObject({
    code: 'UPSTREAM_ERROR',
    message: 'UPSTREAM_ERROR: upstream failed',
  });
  await expect(iii.trigger({ function_id: plain, payload: {} })).rejects.toMatchObject({ code: 'http_error' });
  await expect(iii.trigger({ function_id: empty, payload: {} })).resolves.toBeUndefined();
  for (const ref of [a, b, c]) ref.unregister();
});

test('registers, lists and unregisters; no delivery after unregister', async () => {
  const fn = unique('test::http_external::stop');
  const topic = unique('test.http_external.stop');
  const ref = iii.registerFunction(fn, { url: probe.url() });
  await waitFor(() => listed(fn));
  const trigger = iii.registerTrigger({ type: 'durable:subscriber', function_id: fn, config: { topic } });
  await sleep(200);
  await iii.trigger({ function_id: 'iii::durable::publish', payload: { topic, data: { phase: 'before' } } });
  await waitFor(() => probe.received.length === 1);
  trigger.unregister();
  ref.unregister();
  await waitFor(async () => !(await listed(fn)));
  await iii.trigger({ function_id: 'iii::durable::publish', payload: { topic, data: { phase: 'after' } } });
  await sleep(500);
  expect(probe.received).toHaveLength(1);
});

test('an HTTP function goes away with the connection that registered it', async () => {
  const fn = unique('test::http_external::owned');
  const owner = connectWorker(engine.url, 'owner');
  owner.registerFunction(fn, { url: probe.url() });
  await waitFor(() => listed(fn));
  await owner.shutdown();
  await waitFor(async () => !(await listed(fn)));
});

test('the URL policy refuses private addresses and plain http by default', async () => {
  const strict = await startTestEngine({
    config: parseConfig(
      'workers:\n  - name: iii-worker-manager\n    config: { port: 0 }\n  - name: iii-http-functions\n',
      {},
    ),
  });
  const w = connectWorker(strict.url, 'strict');
  try {
    const fn = unique('test::http_external::private');
    w.registerFunction(fn, { url: probe.url() });
    w.registerFunction('probe::marker', async () => 1);
    await waitFor(async () =>
      ((await w.trigger({ function_id: 'engine::functions::list', payload: {} })) as any).functions.some(
        (f: { function_id: string }) => f.function_id === 'probe::marker',
      ),
    );
    await expect(w.trigger({ function_id: fn, payload: {} })).rejects.toMatchObject({ code: 'function_not_found' });
    expect(probe.received).toHaveLength(0);
  } finally {
    await w.shutdown();
    await strict.close();
  }
});

test('without iii-http-functions in the config, invocation registrations are ignored', async () => {
  const plain = await startTestEngine();
  const w = connectWorker(plain.url, 'plain');
  try {
    const fn = unique('test::http_external::off');
    w.registerFunction(fn, { url: probe.url() });
    w.registerFunction('probe::marker', async () => 1);
    await waitFor(async () =>
      ((await w.trigger({ function_id: 'engine::functions::list', payload: {} })) as any).functions.some(
        (f: { function_id: string }) => f.function_id === 'probe::marker',
      ),
    );
    await expect(w.trigger({ function_id: fn, payload: {} })).rejects.toMatchObject({ code: 'function_not_found' });
  } finally {
    await w.shutdown();
    await plain.close();
  }
});
