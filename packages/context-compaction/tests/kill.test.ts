import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { chatSession, summariserRequests } from './helpers.js';
import {
  compactionEntries,
  compactSession,
  GOOD_SUMMARY,
  getState,
  type Stack,
  startStack,
  summaryTurn,
} from './stack.js';

/**
 * The compaction worker as its own process (the built package), SIGKILLed while the summariser is
 * answering: nothing is appended, its lease expires, and a later compaction succeeds, once.
 */

const PACKAGES = join(__dirname, '..', '..');
const LEASE_TTL_MS = 6_000;

let s: Stack;
let dir: string;
let child: ChildProcess | undefined;
let output = '';

beforeAll(async () => {
  // The child runs plain node: tests/global-setup.cjs built this package's dist.
  s = await startStack({ compaction: false });
  dir = mkdtempSync(join(tmpdir(), 'compaction-kill-'));
}, 180_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function spawnWorker(): Promise<ChildProcess> {
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `context-compaction:\n  lease_ttl_ms: ${LEASE_TTL_MS}\n  busy_wait_ms: 0\n`);
  const proc = spawn(
    process.execPath,
    [join(PACKAGES, 'context-compaction', 'dist', 'main.js'), '--url', s.engine.url, '--config', config],
    { env: { ...process.env, OTEL_ENABLED: 'false', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const stream of [proc.stdout, proc.stderr]) stream?.on('data', (chunk) => (output += String(chunk)));
  await eventually(
    async () => {
      const { functions } = await s.client.bus.call(contracts.engine.functionsList, { prefix: 'compaction::' });
      if (!functions.some((f) => f.function_id === 'compaction::compact_session'))
        throw new Error('not registered yet');
    },
    { timeoutMs: 30_000, intervalMs: 100 },
  );
  return proc;
}

it('killed mid-summary: no compaction entry, the lease expires, a later compaction succeeds once', async () => {
  const { session_id } = await chatSession(s, { turns: 60, words: 50 });
  child = await spawnWorker();
  const exited = new Promise((resolve) => child!.once('exit', resolve));
  // A slow summary: about 8 s of streaming.
  s.provider.script(summaryTurn(GOOD_SUMMARY, { delay_ms: 80, split: 100 }));
  const before = summariserRequests(s).length;
  const call = compactSession(s, { session_id, provider: 'scripted', model: 'small-8k' }).then(
    (result) => ({ result }),
    (error: { code: string }) => ({ error }),
  );
  await eventually(() => expect(summariserRequests(s).length).toBe(before + 1), { timeoutMs: 30_000 });
  expect((await getStateVia(s, session_id)).held).toBe(true);
  child.kill('SIGKILL');
  await exited;
  const outcome = await call;
  expect('error' in outcome ? outcome.error.code : outcome).toMatch(/unavailable|timeout|not_found/);
  expect(await compactionEntries(s, session_id)).toHaveLength(0);

  // A new worker finds the dead one's lease still held, then expired.
  await s.startCompaction({ lease_ttl_ms: LEASE_TTL_MS, busy_wait_ms: 0 });
  expect((await getState(s, session_id)).lease.held).toBe(true);
  expect(await compactSession(s, { session_id, provider: 'scripted', model: 'small-8k' })).toMatchObject({
    status: 'busy',
  });
  expect(await compactionEntries(s, session_id)).toHaveLength(0);
  await eventually(async () => expect((await getState(s, session_id)).lease.held).toBe(false), {
    timeoutMs: LEASE_TTL_MS + 5_000,
    intervalMs: 100,
  });
  expect(await compactSession(s, { session_id, provider: 'scripted', model: 'small-8k' })).toMatchObject({
    status: 'compacted',
  });
  expect(await compactionEntries(s, session_id)).toHaveLength(1);
  expect((await getState(s, session_id)).lease.held).toBe(false);
  expect(output).not.toMatch(/"level":(50|60)/);
}, 120_000);

/** The lease as engine state shows it (the worker that would serve get_state is the one killed). */
async function getStateVia(stack: Stack, sessionId: string): Promise<{ held: boolean }> {
  const record = (await stack.client.bus.call(contracts.engine.stateGet, {
    scope: 'compaction',
    key: `lease:${sessionId}`,
  })) as {
    expires_at?: number;
  } | null;
  return { held: (record?.expires_at ?? 0) > Date.now() };
}
