/**
 * Issue 10, finding 1: a web page on any site could open the worker socket (the browser sends
 * its own `Origin`) and call every function, `auth::get_token` included. Browsers' foreign
 * origins are now refused on every WebSocket route; non-browser clients (no `Origin`) and the
 * loopback origins a local console serves from are accepted.
 */
import WebSocket from 'ws';
import type { RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, startTestEngine, waitForFunction } from './helpers/conformance.js';

/** Opens a socket the way a browser would, with an Origin header; resolves 'open' or the HTTP status. */
function openWithOrigin(url: string, origin: string | undefined): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin === undefined ? {} : { origin });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
    ws.once('error', reject);
  });
}

let engine: RunningEngine;

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine();
});

afterAll(() => engine.close());

test('a page on a foreign site cannot open the worker socket, so it cannot read a stored secret', async () => {
  const owner = connectWorker(engine.url, 'vault');
  owner.registerFunction('auth::get_token', async () => ({ token: 'sk-live-secret' }));
  await waitForFunction(owner, 'auth::get_token');

  const attempt = await openWithOrigin(engine.url, 'https://evil.example');
  attempt.ws?.close();
  expect(attempt.status).toBe(403);
  await owner.shutdown();
});

test.each(['https://evil.example', 'null', 'http://127.0.0.1.evil.example:3113', 'http://localhost.evil.example'])(
  'origin %s is refused on /, /otel and the channel route',
  async (origin) => {
    const creator = connectWorker(engine.url, 'channels');
    const refs = (await creator.trigger({ function_id: 'engine::channels::create', payload: {} })) as {
      reader: { channel_id: string; access_key: string };
    };
    const channelUrl = `${engine.url}/ws/channels/${refs.reader.channel_id}?key=${refs.reader.access_key}&dir=read`;
    for (const url of [engine.url, `${engine.url}/otel`, channelUrl]) {
      const attempt = await openWithOrigin(url, origin);
      attempt.ws?.close();
      expect({ url, status: attempt.status }).toEqual({ url, status: 403 });
    }
    await creator.shutdown();
  },
);

test.each([undefined, 'http://127.0.0.1:3113', 'http://localhost:5173', 'https://localhost', 'http://[::1]:3113'])(
  'origin %s (a non-browser client or a local page such as the console) is accepted',
  async (origin) => {
    const attempt = await openWithOrigin(engine.url, origin);
    expect(attempt.ws).toBeDefined();
    attempt.ws!.close();
  },
);

test('allowedOrigins replaces the loopback default', async () => {
  const custom = await startTestEngine({ security: { allowedOrigins: ['https://console.example'] } });
  try {
    const allowed = await openWithOrigin(custom.url, 'https://console.example');
    expect(allowed.ws).toBeDefined();
    allowed.ws!.close();
    const loopback = await openWithOrigin(custom.url, 'http://127.0.0.1:3113');
    expect(loopback.status).toBe(403);
  } finally {
    await custom.close();
  }
});
