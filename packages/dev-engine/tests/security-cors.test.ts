/**
 * Issue 10, finding 5: HTTP triggers answered `Access-Control-Allow-Origin: *` with no CORS
 * configured, so any page could read what an HTTP-triggered function returned. Now CORS headers
 * appear only when `iii-http` has a `cors` section (the real engine's config), and only for the
 * origins it lists.
 */
import type { IIIClient } from 'iii-sdk';
import { defaultConfig, type RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, startTestEngine, waitFor } from './helpers/conformance.js';

async function withRoute(engine: RunningEngine): Promise<IIIClient> {
  const w = connectWorker(engine.url, 'cors-worker');
  w.registerFunction('cors::secret', async () => ({ body: { secret: 'only for same-origin readers' } }));
  w.registerTrigger({ type: 'http', function_id: 'cors::secret', config: { api_path: 'secret', http_method: 'GET' } });
  await waitFor(async () => (await fetch(`${engine.httpUrl}/secret`)).status === 200);
  return w;
}

const preflight = (engine: RunningEngine, origin: string) =>
  fetch(`${engine.httpUrl}/secret`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'GET' },
  });

beforeAll(() => quietSdk());

test('without a cors section no response carries Access-Control-Allow-Origin', async () => {
  const engine = await startTestEngine();
  const w = await withRoute(engine);
  try {
    const res = await fetch(`${engine.httpUrl}/secret`, { headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await preflight(engine, 'https://evil.example');
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.headers.get('access-control-allow-methods')).toBeNull();
    const missing = await fetch(`${engine.httpUrl}/nope`, { headers: { origin: 'https://evil.example' } });
    expect(missing.headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    await w.shutdown();
    await engine.close();
  }
});

test('with cors.allowed_origins only the listed origin is allowed', async () => {
  const config = defaultConfig();
  config.http = { cors: { allowed_origins: ['https://app.example'], allowed_methods: ['GET'] } };
  const engine = await startTestEngine({ config });
  const w = await withRoute(engine);
  try {
    const ok = await fetch(`${engine.httpUrl}/secret`, { headers: { origin: 'https://app.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await fetch(`${engine.httpUrl}/secret`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await preflight(engine, 'https://app.example');
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET');
  } finally {
    await w.shutdown();
    await engine.close();
  }
});

test("cors.allowed_origins: ['*'] allows every origin", async () => {
  const config = defaultConfig();
  config.http = { cors: { allowed_origins: ['*'] } };
  const engine = await startTestEngine({ config });
  const w = await withRoute(engine);
  try {
    const res = await fetch(`${engine.httpUrl}/secret`, { headers: { origin: 'https://anyone.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  } finally {
    await w.shutdown();
    await engine.close();
  }
});
