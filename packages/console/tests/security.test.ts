import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@iii-harness/runtime';
import {
  type CapturedLogs,
  captureLogs,
  connectClient,
  type DevEngine,
  eventually,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contract, contracts } from '@iii-harness/types';
import { z } from 'zod';
import { configSchema } from '../src/config.js';
import { type RunningConsole, startConsole } from '../src/console.js';
import { CONTENT_SECURITY_POLICY } from '../src/security.js';
import { http, PageSocket } from './helpers/page-socket.js';
import { mainOf, type Proc, spawnNode } from './helpers/processes.js';

jest.setTimeout(120_000);

const STATIC = join(__dirname, '..', 'dist', 'public');
const SECRET = 'sk-test-console-never-shows-this-0123456789';

let engine: DevEngine;
let client: TestClient;
let probe: TestWorker<unknown>;
const probeRuns: unknown[] = [];
const procs: Proc[] = [];

async function consoleOn(config: Record<string, unknown>): Promise<{ running: RunningConsole; logs: CapturedLogs }> {
  const logs = captureLogs();
  const running = await startConsole({
    url: engine.url,
    config: configSchema.parse({ port: 0, ...config }),
    staticDir: STATIC,
    version: 'test',
    logger: createLogger({ worker: 'console', level: 'debug', destination: logs.stream }),
    otel: false,
    retryMs: 200,
  });
  await running.connected;
  return { running, logs };
}

const origin = (c: RunningConsole) => `http://127.0.0.1:${c.port}`;
const wsUrl = (c: RunningConsole) => `ws://127.0.0.1:${c.port}/ws`;

async function openPage(c: RunningConsole, headers: Record<string, string> = {}): Promise<PageSocket> {
  const upgrade = await PageSocket.connect(wsUrl(c), { Origin: origin(c), ...headers });
  if (!upgrade.open) throw new Error(`refused with ${upgrade.status}`);
  await upgrade.socket.next((f) => f.t === 'hello');
  return upgrade.socket;
}

beforeAll(async () => {
  engine = await startDevEngine();
  client = await connectClient(engine.url);
  // A function the page must never reach, whatever it sends.
  probe = await startTestWorker(
    {
      name: 'probe',
      description: 'records any call',
      config: z.object({}),
      register(worker) {
        worker.function(
          contract({ id: 'probe::secret', description: 'probe', input: z.unknown(), output: z.unknown() }),
          (input) => {
            probeRuns.push(input);
            return { secret: SECRET };
          },
        );
      },
    },
    { url: engine.url },
  );
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await probe?.shutdown();
  await client?.close();
  await engine?.close();
});

describe('on loopback (no token)', () => {
  let running: RunningConsole;
  let logs: CapturedLogs;
  beforeAll(async () => {
    ({ running, logs } = await consoleOn({}));
  });
  afterAll(() => running?.close());

  it('serves the page with a strict CSP and no inline script', async () => {
    const page = await http(`${origin(running)}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-store');
    // Every script is a same-origin file; nothing inline, nothing from a CDN.
    const scripts = [...page.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/src="\/assets\/[^"]+\.js"/);
      expect(body).toBe('');
    }
    expect(page.body).not.toMatch(/https?:\/\//);
    const asset = readdirSync(join(STATIC, 'assets')).find((f) => f.endsWith('.js'))!;
    const js = await http(`${origin(running)}/assets/${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await http(`${origin(running)}/chat/some-session`)).status).toBe(200);
    expect((await http(`${origin(running)}/assets/missing.js`)).status).toBe(404);
  });

  it('changes nothing over HTTP: only GET and HEAD', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'])
      expect((await http(`${origin(running)}/`, { method })).status).toBe(405);
    expect((await http(`${origin(running)}/`, { method: 'HEAD' })).status).toBe(200);
  });

  it('refuses a Host that is not loopback (DNS rebinding)', async () => {
    const rebound = await http(`${origin(running)}/`, { headers: { Host: `evil.example:${running.port}` } });
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('<script');
    const ws = await PageSocket.connect(wsUrl(running), {
      Host: `evil.example:${running.port}`,
      Origin: `http://evil.example:${running.port}`,
    });
    expect(ws).toEqual({ open: false, status: 421 });
  });

  it('refuses a WebSocket from another Origin, or without one', async () => {
    expect(await PageSocket.connect(wsUrl(running), { Origin: 'http://evil.example' })).toEqual({
      open: false,
      status: 403,
    });
    expect(await PageSocket.connect(wsUrl(running), { Origin: `http://localhost:${running.port}` })).toEqual({
      open: false,
      status: 403,
    });
    expect(await PageSocket.connect(wsUrl(running), {})).toEqual({ open: false, status: 403 });
    expect(logs.text()).toContain('page connection refused');
    const page = await openPage(running);
    expect(page.frames[0]).toMatchObject({ t: 'hello', engine: { connected: true } });
    page.close();
  });

  it('refuses and logs a crafted call to a function outside the allowlist; nothing reaches the bus', async () => {
    const page = await openPage(running);
    const hello = page.frames[0] as { allow: string[] };
    for (const fn of [
      'probe::secret',
      'auth::get_token',
      'harness::provider::resolve',
      'state::set',
      'stream::set',
      'run::start',
      'session::append',
      'approval::hold',
      'engine::functions::list',
      'queue::define',
      'constructor',
      '__proto__',
    ]) {
      expect(hello.allow).not.toContain(fn);
      const reply = await page.call(fn, { provider: 'openai', scope: 'x', key: 'y', value: 1 });
      expect(reply).toMatchObject({ ok: false, error: { code: 'denied', reason: 'not_allowed' } });
    }
    expect(probeRuns).toEqual([]);
    const refused = logs.lines().filter((l) => l.msg === 'refused: not on the console allowlist');
    expect(refused.map((l) => l.fn)).toEqual(
      expect.arrayContaining(['probe::secret', 'auth::get_token', 'state::set']),
    );
    // Frames that are not frames: logged, ignored, the socket survives.
    page.send('not json');
    page.send({ t: 'call', id: 1, fn: 'x'.repeat(500) });
    page.send({ t: 'eval', code: '1' });
    const ok = await page.call('console.titles', {});
    expect(ok).toMatchObject({ ok: true });
    expect(logs.lines().filter((l) => l.msg === 'bad frame from page')).toHaveLength(3);
    page.close();
  });

  it('checks payloads against the contract before calling', async () => {
    const page = await openPage(running);
    const reply = await page.call('session::get', { session_id: '../../etc', extra: true });
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    page.close();
  });
});

describe('off loopback', () => {
  let running: RunningConsole;
  let logs: CapturedLogs;
  beforeAll(async () => {
    ({ running, logs } = await consoleOn({ host: '0.0.0.0' }));
  });
  afterAll(() => running?.close());

  it('makes up a token, prints it in the URL, and serves nothing without it', async () => {
    expect(running.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(running.openUrl).toBe(`${running.url}?token=${running.token}`);
    const asset = readdirSync(join(STATIC, 'assets'))[0]!;
    for (const path of ['/', '/chat', `/assets/${asset}`, '/favicon.svg', '/?token=wrong']) {
      const reply = await http(`${origin(running)}${path}`);
      expect(reply.status).toBe(401);
      expect(reply.body).not.toContain('<');
    }
    expect(await PageSocket.connect(wsUrl(running), { Origin: origin(running) })).toEqual({
      open: false,
      status: 401,
    });
    expect(await PageSocket.connect(`${wsUrl(running)}?token=${running.token}`, { Origin: origin(running) })).toEqual({
      open: false,
      status: 401,
    });
  });

  it('exchanges the token for an HttpOnly SameSite cookie, then serves the page and the socket', async () => {
    const login = await http(`${origin(running)}/chat/abc?token=${running.token}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/chat/abc');
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const pair = cookie.split(';')[0]!;
    expect((await http(`${origin(running)}/`, { headers: { Cookie: pair } })).status).toBe(200);
    expect((await http(`${origin(running)}/`, { headers: { Authorization: `Bearer ${running.token}` } })).status).toBe(
      200,
    );
    // console::status tells the CLI where the console is and that it needs a token, never which.
    const status = await client.bus.call(contracts.console.status, {});
    expect(status).toMatchObject({ url: running.url, port: running.port, token_required: true });
    expect(JSON.stringify(status)).not.toContain(running.token!);
    const page = await openPage(running, { Cookie: pair });
    // The token is never sent to the page.
    expect(page.raw.join('')).not.toContain(running.token!);
    page.close();
    // Nor logged.
    expect(logs.text()).not.toContain(running.token!);
  });
});

describe('secrets', () => {
  let running: RunningConsole;
  let logs: CapturedLogs;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iih-console-secret-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `auth-credentials:\n  store_path: ${JSON.stringify(join(dir, 'credentials.json'))}\n`);
    for (const w of ['auth-credentials', 'harness', 'models-catalog'])
      procs.push(spawnNode(w, mainOf(w), ['--url', engine.url, '--config', config]));
    await eventually(
      async () => {
        for (const id of [contracts.auth.setToken.id, contracts.harness.providerList.id, contracts.models.list.id])
          await client.bus.call(contracts.engine.functionsInfo, { function_id: id });
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    ({ running, logs } = await consoleOn({}));
  });
  afterAll(() => running?.close());

  it('writes a key through auth::set_token and never sends or logs it back', async () => {
    const page = await openPage(running);
    const set = await page.call('auth::set_token', { provider: 'openai', token: SECRET });
    expect(set).toMatchObject({ ok: true, value: { provider: 'openai', source: 'stored' } });
    const status = await page.call('auth::status', {});
    expect(status).toMatchObject({ ok: true });
    expect(
      (status.value as { providers: Array<{ provider: string; configured: boolean }> }).providers.find(
        (p) => p.provider === 'openai',
      ),
    ).toMatchObject({ configured: true, source: 'stored' });
    await page.call('console.providers', {});
    await page.call('harness::provider::list', {});
    await page.call('auth::get_token', { provider: 'openai' });
    expect(page.raw.join('\n')).not.toContain(SECRET);
    expect(logs.text()).not.toContain(SECRET);
    // It is stored for real: the vault gives it to whoever may ask (not the page).
    expect((await client.bus.call(contracts.auth.getToken, { provider: 'openai' })).token).toBe(SECRET);
    page.close();
  });
});
