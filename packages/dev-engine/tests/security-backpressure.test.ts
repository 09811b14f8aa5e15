/**
 * Issue 10, finding 3: a client that never reads while fetching a 1 MiB value in a loop grew
 * the engine by 1.4–1.7 GB in 20 s, and a well-behaved worker's calls slowed to 5–8 s. Now a
 * connection stops being served once its unsent data passes a high-water mark, and is closed
 * once it passes the cap; everyone else keeps being served.
 */
import type { IIIClient } from 'iii-sdk';
import WebSocket from 'ws';
import type { RunningEngine } from '../src/index.js';
import type { Router } from '../src/router.js';
import {
  connectWorker,
  quietSdk,
  sqliteOnlyTest,
  startTestEngine,
  waitFor,
  waitForFunction,
} from './helpers/conformance.js';

jest.setTimeout(60_000);

const MiB = 1024 * 1024;
const REQUESTS = 400;

let engine: RunningEngine;
let worker: IIIClient;

beforeAll(async () => {
  quietSdk();
  engine = await startTestEngine({
    security: { maxOutboundBytes: 16 * MiB, outboundHighWaterBytes: 4 * MiB, outboundStallTimeoutMs: 1000 },
  });
  worker = connectWorker(engine.url, 'polite', { invocationTimeoutMs: 20_000 });
  worker.registerFunction('polite::ping', async () => 'pong');
  await waitForFunction(worker, 'polite::ping');
  await worker.trigger({ function_id: 'state::set', payload: { scope: 'big', key: 'v', value: 'x'.repeat(MiB) } });
});

afterAll(async () => {
  await worker.shutdown();
  await engine.close();
});

/** Memory that unsent frames occupy (socket buffers hold strings on the heap and Buffers outside it). */
const bufferMemory = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
};

// On Redis, reads answer asynchronously: a burst of reads is all in flight before the first reply
// reaches the outbound cap, so memory follows the burst, not the cap (see README, adapters).
sqliteOnlyTest('a client that does not read is cut off; memory stays bounded; others are still served', async () => {
  const router = engine.api as Router;
  const known = new Set(router.connections.keys());
  const attacker = new WebSocket(engine.url);
  await new Promise((resolve) => attacker.once('open', resolve));
  const attackerId = await waitFor(() => [...router.connections.keys()].find((id) => !known.has(id)));
  // Stop reading: the kernel buffers fill and everything else queues inside the engine.
  (attacker as unknown as { _socket: { pause(): void } })._socket.pause();
  attacker.on('error', () => undefined);

  const baseline = bufferMemory();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, bufferMemory())), 5);
  for (let i = 0; i < REQUESTS && attacker.readyState === WebSocket.OPEN; i++) {
    attacker.send(
      JSON.stringify({
        type: 'invokefunction',
        invocation_id: crypto.randomUUID(),
        function_id: 'state::get',
        data: { scope: 'big', key: 'v' },
      }),
    );
    if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
  }

  // Meanwhile a well-behaved worker's calls complete.
  for (let i = 0; i < 20; i++)
    await expect(worker.trigger({ function_id: 'polite::ping', payload: {} })).resolves.toBe('pong');

  await waitFor(() => !router.connections.has(attackerId), { timeoutMs: 15_000 });
  clearInterval(sampler);
  peak = Math.max(peak, bufferMemory());
  // 400 replies of 1 MiB would be 400 MiB; the cap keeps the engine's share near 16 MiB.
  expect(peak - baseline).toBeLessThan(120 * MiB);
  attacker.terminate();
});

test('a client that reads slowly but keeps up is never cut off', async () => {
  const reader = new WebSocket(engine.url);
  await new Promise((resolve) => reader.once('open', resolve));
  let results = 0;
  reader.on('message', (data) => {
    if (JSON.parse(data.toString()).type === 'invocationresult') results++;
  });
  for (let i = 0; i < 30; i++) {
    reader.send(
      JSON.stringify({
        type: 'invokefunction',
        invocation_id: crypto.randomUUID(),
        function_id: 'state::get',
        data: { scope: 'big', key: 'v' },
      }),
    );
    await waitFor(() => results === i + 1, { timeoutMs: 10_000 });
  }
  expect(reader.readyState).toBe(WebSocket.OPEN);
  reader.close();
});
