import {
  connectClient,
  type DevEngine,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { type Config, createWebWorker } from '../src/index.js';
import { startServer, stubResolver, type TestServer } from './helpers.js';

/** web::fetch through a real dev engine and the real iii-sdk, as an agent's call would reach it. */

let engine: DevEngine;
let worker: TestWorker<Config>;
let client: TestClient;
let site: TestServer;

beforeAll(async () => {
  site = await startServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    if (req.url === '/gone') res.statusCode = 410;
    if (req.url === '/to-metadata') {
      res.statusCode = 302;
      res.setHeader('location', 'http://169.254.169.254/latest/meta-data/iam/');
    }
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(
      '<html><head><title>Hello page</title></head><body><article><p>Hello from the test site.</p></article></body></html>',
    );
  });
  engine = await startDevEngine();
  worker = await startTestWorker(createWebWorker({ resolve: stubResolver({ 'site-a.test': ['127.0.0.1'] }) }), {
    url: engine.url,
    config: { allow_private: ['site-a.test'], first_byte_timeout_ms: 1_000 },
  });
  client = await connectClient(engine.url);
});

afterAll(async () => {
  await client?.close();
  await worker?.shutdown();
  await engine?.close();
  await site?.close();
});

const url = (path: string) => `http://site-a.test:${site.port}${path}`;

describe('web over the bus', () => {
  it('documents web::fetch for agents: description and both schemas', async () => {
    const info = await client.bus.call(contracts.engine.functionsInfo, { function_id: contracts.web.fetch.id });
    const request = info.request_schema as { properties: Record<string, unknown>; required: string[] };
    expect(info.description).toMatch(/SSRF|private|metadata/);
    expect(Object.keys(request.properties)).toEqual(
      expect.arrayContaining([
        'url',
        'method',
        'headers',
        'body',
        'timeout_ms',
        'max_bytes',
        'format',
        'max_redirects',
      ]),
    );
    expect(request.required).toEqual(['url']);
    expect(info.response_schema).toBeDefined();
  });

  it('fetches a page as markdown through contracts.web.fetch', async () => {
    const result = await client.bus.call(contracts.web.fetch, { url: url('/page') });
    expect(result).toMatchObject({ status: 200, format: 'markdown', title: 'Hello page', truncated: false });
    expect(result.format === 'markdown' && result.markdown).toContain('Hello from the test site.');
  });

  it('returns an HTTP error status as a result, or fails with http_error when asked', async () => {
    expect(await client.bus.call(contracts.web.fetch, { url: url('/gone'), format: 'text' })).toMatchObject({
      status: 410,
    });
    await expect(
      client.bus.call(contracts.web.fetch, { url: url('/gone'), fail_on_http_error: true }),
    ).rejects.toMatchObject({
      code: 'unavailable',
      reason: 'http_error',
      retryable: false,
    });
  });

  it('carries blocked, bad_url and timeout across the wire with their reasons', async () => {
    const blocked = await client.bus
      .call(contracts.web.fetch, { url: 'http://[::ffff:169.254.169.254]/' })
      .catch((e) => e);
    expect(blocked).toMatchObject({ code: 'denied', reason: 'blocked', retryable: false });
    expect(blocked.message).toMatch(/cloud metadata/);
    await expect(client.bus.call(contracts.web.fetch, { url: url('/to-metadata') })).rejects.toMatchObject({
      code: 'denied',
      reason: 'blocked',
    });
    await expect(client.bus.call(contracts.web.fetch, { url: 'file:///etc/passwd' })).rejects.toMatchObject({
      code: 'invalid_payload',
      reason: 'bad_url',
    });
    await expect(client.bus.call(contracts.web.fetch, { url: url('/hang') })).rejects.toMatchObject({
      code: 'timeout',
      reason: 'timeout',
      retryable: true,
    });
  });

  it.each([
    [{}],
    [{ url: '' }],
    [{ url: 'http://site-a.test/', method: 'TRACE' }],
    [{ url: 'http://site-a.test/', format: 'pdf' }],
    [{ url: 'http://site-a.test/', timeout_ms: -1 }],
    [{ url: 'http://site-a.test/', headers: { 'X-A': 1 } }],
    [{ url: 'http://site-a.test/', surprise: true }],
  ])('rejects the malformed payload %j with invalid_payload', async (payload) => {
    await expect(client.bus.invoke(contracts.web.fetch.id, payload)).rejects.toMatchObject({ code: 'invalid_payload' });
  });
});
