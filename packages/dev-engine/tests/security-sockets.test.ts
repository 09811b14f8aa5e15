/**
 * Issue 10, finding 4: the handshake timeout had no effect, idle and half-open connections were
 * never closed, and 1,100 idle sockets exhausted a 1,024-descriptor limit so that restarting
 * workers could not get back in. Now unfinished handshakes time out, every WebSocket is pinged
 * and closed when it stops answering, and at the connection limit silent sockets are evicted
 * to make room for real workers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerWorker } from 'iii-sdk';
import WebSocket from 'ws';
import type { RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, sleep, startTestEngine, waitFor, waitForFunction } from './helpers/conformance.js';
import { buildEngineBin, type EngineProcess, spawnEngine } from './helpers/queue-crash-engine.js';

jest.setTimeout(90_000);

let engine: RunningEngine;

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine({ security: { handshakeTimeoutMs: 300, pingIntervalMs: 100, idleTimeoutMs: 600 } });
});

afterAll(() => engine.close());

function rawTcp(url: string): Promise<{ socket: Socket; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      resolve({ socket, closed: new Promise((done) => socket.once('close', () => done())) }),
    );
    socket.once('error', reject);
  });
}

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

test('a socket that never completes its handshake is closed after handshake_timeout_ms', async () => {
  const silent = await rawTcp(engine.url);
  const partial = await rawTcp(engine.url);
  partial.socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'); // headers never finished
  expect(await within(silent.closed, 5000)).toBe(true);
  expect(await within(partial.closed, 5000)).toBe(true);
});

test('a half-open WebSocket (no pongs) is closed; a live one stays', async () => {
  const deaf = new WebSocket(engine.url, { autoPong: false });
  const live = new WebSocket(engine.url);
  await Promise.all([deaf, live].map((ws) => new Promise((resolve) => ws.once('open', resolve))));
  const deafClosed = new Promise<void>((resolve) => deaf.once('close', () => resolve()));
  expect(await within(deafClosed, 5000)).toBe(true);
  expect(live.readyState).toBe(WebSocket.OPEN);
  live.close();
});

test('an SDK worker answers the pings and is never dropped while idle', async () => {
  const worker = connectWorker(engine.url, 'idle-but-alive');
  worker.registerFunction('idle::fn', async () => 'here');
  await waitForFunction(worker, 'idle::fn');
  await sleep(1500); // more than twice the idle timeout
  await expect(worker.trigger({ function_id: 'idle::fn', payload: {} })).resolves.toBe('here');
  await worker.shutdown();
});

describe('descriptor exhaustion (engine process under ulimit -n 96)', () => {
  let dataDir: string;
  let child: EngineProcess | undefined;

  beforeAll(() => {
    buildEngineBin();
    dataDir = mkdtempSync(join(tmpdir(), 'dev-engine-fds-'));
  });

  afterAll(async () => {
    await child?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('150 silent WebSockets do not lock a restarting worker out', async () => {
    child = await spawnEngine(dataDir, 0, { fdLimit: 96, args: ['--max-connections', '40'] });
    const squatters: WebSocket[] = [];
    for (let i = 0; i < 150; i++) {
      const ws = new WebSocket(child.url);
      ws.on('error', () => undefined);
      squatters.push(ws);
      await new Promise((resolve) => {
        ws.once('open', resolve);
        ws.once('close', resolve);
        ws.once('error', resolve);
      });
    }
    const worker = registerWorker(child.url, {
      workerName: 'restarted',
      otel: { enabled: false },
      enableMetricsReporting: false,
      reconnectionConfig: { initialDelayMs: 100, maxDelayMs: 500, jitterFactor: 0 },
    });
    try {
      worker.registerFunction('restarted::fn', async () => 'back');
      await waitFor(
        async () => (await worker.trigger({ function_id: 'restarted::fn', payload: {}, timeoutMs: 2000 })) === 'back',
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    } finally {
      await worker.shutdown();
      for (const ws of squatters) ws.terminate();
    }
  });
});
