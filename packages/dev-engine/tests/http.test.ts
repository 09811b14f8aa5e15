/**
 * Conformance: `http` triggers — request payload, JSON and streamed responses, path params,
 * request body channel, and the engine's error responses.
 */
import type { IIIClient } from 'iii-sdk';
import { defaultConfig, type RunningEngine } from '../src/index.js';
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
let w: IIIClient;
const requests: any[] = [];

async function route(
  id: string,
  method: string,
  api_path: string,
  handler: (req: any) => Promise<unknown>,
  extra: Record<string, unknown> = {},
) {
  w.registerFunction(id, handler);
  w.registerTrigger({ type: 'http', function_id: id, config: { api_path, http_method: method, ...extra } });
  await waitForFunction(w, id);
  await waitFor(async () => {
    const { registered_triggers } = (await w.trigger({
      function_id: 'engine::registered-triggers::list',
      payload: { function_id: id },
    })) as { registered_triggers: unknown[] };
    return registered_triggers.length > 0;
  });
}

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine();
  w = connectWorker(engine.url, 'http-worker');
  await route('api::get_user', 'GET', '/users/:id', async (req: any) => {
    requests.push(req);
    return {
      status_code: 201,
      headers: { 'x-user': req.path_params.id },
      body: { id: req.path_params.id, q: req.query_params.q },
    };
  });
  await route('api::static_me', 'GET', 'users/me', async () => ({ body: { me: true } }));
  await route('api::echo', 'POST', 'echo', async (req: any) => ({ body: req.body }));
  await route('api::text', 'GET', 'text', async () => ({ headers: ['Content-Type: text/plain'], body: 'plain words' }));
  await route('api::fail', 'GET', 'fail', async () => {
    throw new Error('kaput');
  });
  await route('api::stream', 'GET', 'stream', async (req: any) => {
    const res = req.response;
    res.sendMessage(JSON.stringify({ type: 'set_status', status_code: 202 }));
    res.sendMessage(
      JSON.stringify({ type: 'set_headers', headers: { 'content-type': 'text/plain', 'x-streamed': 'yes' } }),
    );
    res.stream.write(Buffer.from('chunk-1;'));
    await sleep(20);
    res.stream.end(Buffer.from('chunk-2'));
    res.close();
  });
  await route('api::upload', 'POST', 'upload', async (req: any) => {
    const bytes: Buffer = await req.request_body.readAll();
    return { body: { received: bytes.toString('utf8'), parsed: req.body } };
  });
  w.registerFunction('api::only_admins', async (req: any) => req.headers['x-role'] === 'admin');
  await route('api::guarded', 'GET', 'guarded', async () => ({ body: 'in' }), {
    condition_function_id: 'api::only_admins',
  });
});

afterAll(async () => {
  await w.shutdown();
  await engine.close();
});

test('GET with a path param and a query: the handler sees the engine request shape; the result becomes the response', async () => {
  const res = await fetch(`${engine.httpUrl}/users/42?q=hello&q=last`, { headers: { 'X-Custom': 'abc' } });
  expect(res.status).toBe(201);
  expect(res.headers.get('x-user')).toBe('42');
  expect(res.headers.get('content-type')).toBe('application/json');
  await expect(res.json()).resolves.toEqual({ id: '42', q: 'last' });
  const req = requests.at(-1);
  expect(req).toMatchObject({
    query_params: { q: 'last' },
    path_params: { id: '42' },
    headers: expect.objectContaining({ 'x-custom': 'abc' }),
    path: '/users/:id',
    method: 'GET',
    body: null,
    trigger: { type: 'http', path: '/users/:id', method: 'GET' },
  });
  // The channel refs were turned into SDK ChannelReader/ChannelWriter objects.
  expect(req.request_body.constructor.name).toBe('ChannelReader');
  expect(req.response.constructor.name).toBe('ChannelWriter');
});

test('static segments win over parameters', async () => {
  await expect((await fetch(`${engine.httpUrl}/users/me`)).json()).resolves.toEqual({ me: true });
});

test('a JSON request body is parsed into body', async () => {
  const res = await fetch(`${engine.httpUrl}/echo`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ a: [1, 2] }),
  });
  await expect(res.json()).resolves.toEqual({ a: [1, 2] });
});

test('a string body with a content-type is sent raw', async () => {
  const res = await fetch(`${engine.httpUrl}/text`);
  expect(res.headers.get('content-type')).toBe('text/plain');
  await expect(res.text()).resolves.toBe('plain words');
});

test('a streamed response: set_status / set_headers text frames, then binary chunks', async () => {
  const res = await fetch(`${engine.httpUrl}/stream`);
  expect(res.status).toBe(202);
  expect(res.headers.get('content-type')).toBe('text/plain');
  expect(res.headers.get('x-streamed')).toBe('yes');
  await expect(res.text()).resolves.toBe('chunk-1;chunk-2');
});

test('a non-JSON request body streams through the request_body channel', async () => {
  const res = await fetch(`${engine.httpUrl}/upload`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: 'raw bytes here',
  });
  await expect(res.json()).resolves.toEqual({ received: 'raw bytes here', parsed: null });
});

test('unknown routes get 404 {"error":{"code":"NOT_FOUND","message":"Not Found"}}', async () => {
  const res = await fetch(`${engine.httpUrl}/nothing/here`);
  expect(res.status).toBe(404);
  await expect(res.json()).resolves.toEqual({ error: { code: 'NOT_FOUND', message: 'Not Found' } });
});

test('a failing handler gives 500 with an error_id', async () => {
  const res = await fetch(`${engine.httpUrl}/fail`);
  expect(res.status).toBe(500);
  await expect(res.json()).resolves.toEqual({
    error: { code: 'invocation_failed', message: 'kaput', error_id: expect.stringMatching(/^[0-9a-f]+$/) },
  });
});

test('a condition returning false gives 422 CONDITION_NOT_MET', async () => {
  const denied = await fetch(`${engine.httpUrl}/guarded`);
  expect(denied.status).toBe(422);
  await expect(denied.json()).resolves.toMatchObject({ error: { code: 'CONDITION_NOT_MET' }, skipped: true });
  const allowed = await fetch(`${engine.httpUrl}/guarded`, { headers: { 'x-role': 'admin' } });
  expect(allowed.status).toBe(200);
  await expect(allowed.json()).resolves.toBe('in');
});

test('a route that clashes positionally with another is refused with trigger_registration_failed', async () => {
  const raw = await RawClient.connect(engine.url);
  const id = crypto.randomUUID();
  raw.send({
    type: 'registertrigger',
    id,
    trigger_type: 'http',
    function_id: 'x',
    config: { api_path: 'users/:name', http_method: 'GET' },
  });
  const frame = await raw.next((f) => f.type === 'triggerregistrationresult');
  expect(frame).toMatchObject({
    id,
    error: { code: 'trigger_registration_failed', message: expect.stringContaining('conflicts') },
  });
  // Same method + same path replaces instead; another method is its own route.
  raw.send({
    type: 'registertrigger',
    id: crypto.randomUUID(),
    trigger_type: 'http',
    function_id: 'x',
    config: { api_path: 'users/:id', http_method: 'DELETE' },
  });
  raw.send({ type: 'ping' });
  await raw.next((f) => f.type === 'pong');
  expect(raw.frames.filter((f) => f.type === 'triggerregistrationresult')).toHaveLength(1);
  await raw.close();
});

test('a request not answered within default_timeout gets 504', async () => {
  const config = defaultConfig();
  config.http = { default_timeout: 200 };
  const slowEngine = await startTestEngine({ config });
  const worker = connectWorker(slowEngine.url, 'slow-http');
  worker.registerFunction('slow::handler', async () => {
    await sleep(600);
    return { body: 'too late' };
  });
  worker.registerTrigger({ type: 'http', function_id: 'slow::handler', config: { api_path: 'slow' } });
  await waitForFunction(worker, 'slow::handler');
  await waitFor(async () => (await fetch(`${slowEngine.httpUrl}/slow`)).status !== 404);
  const started = Date.now();
  const res = await fetch(`${slowEngine.httpUrl}/slow`);
  expect(res.status).toBe(504);
  expect(Date.now() - started).toBeLessThan(550);
  await sleep(500); // let the late results land on a finished request
  await worker.shutdown();
  await slowEngine.close();
});
