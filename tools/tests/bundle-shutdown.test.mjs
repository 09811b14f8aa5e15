// SIGTERM to a bundled worker process while it handles calls and a queue job: it exits 0 once the
// drain deadline passes (its stuck calls would otherwise hold it forever); calls that finished
// during the drain are answered; calls the deadline cut fail as unavailable (retryable); the cut
// queue job is redelivered to the next copy and completes there, once.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { registerWorker, TriggerAction } from 'iii-sdk';
import { BUNDLE_ENTRY, bundleScript } from '../bundle/build.mjs';
import { emptyDir, killStarted, startDevEngine, startProcess, waitFor } from './bundle-helpers.mjs';

let engine;
let caller;
let dir;

before(async () => {
  dir = emptyDir('iih-slow-worker-');
  const { code } = await bundleScript(join(import.meta.dirname, 'bundle-fixtures', 'slow-worker.ts'));
  mkdirSync(join(dir, 'dist'));
  writeFileSync(join(dir, BUNDLE_ENTRY), code);
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  engine = await startDevEngine();
  caller = registerWorker(engine.url, { workerName: 'shutdown-test-caller', otel: { enabled: false } });
});

after(async () => {
  killStarted();
  await caller?.shutdown();
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function startSlowWorker(extraArgs = []) {
  return startProcess(`node ${BUNDLE_ENTRY}`, {
    cwd: dir,
    env: { III_URL: engine.url, LOG_LEVEL: 'info' },
    args: extraArgs,
  });
}

const state = (key) => engine.api.call('state::get', { scope: 'slow-jobs', key });

async function activeInvocations(name) {
  const { workers } = await engine.api.call('engine::workers::list', {});
  return workers.filter((w) => w.name === name).reduce((n, w) => n + w.active_invocations, 0);
}

test('SIGTERM drains: finished calls answered, cut calls unavailable, the cut job redelivered, exit 0', {
  timeout: 180_000,
}, async () => {
  const first = startSlowWorker(['--health-port', '0', '--drain-ms', '2000']);
  const port = await waitFor('the health endpoint', () => first.logs().find((l) => l.health_port)?.health_port);
  await waitFor('/readyz to answer 200', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);

  const hold = (tag, until) =>
    caller.trigger({ function_id: 'slow::hold', payload: { tag, until }, timeoutMs: 120_000 }).then(
      (value) => ({ value }),
      (error) => ({ error }),
    );
  const finishing = ['a', 'b', 'c'].map((tag) => hold(tag, 'drain'));
  const stuck = ['d', 'e'].map((tag) => hold(tag, 'never'));
  await caller.trigger({
    function_id: 'slow::job',
    payload: { key: 'k1' },
    action: TriggerAction.Enqueue({ queue: 'default' }),
  });
  await waitFor('the job to start', async () => (await state('k1'))?.attempts === 1);
  await waitFor('six handlers in flight', async () => (await activeInvocations('slow')) === 6);

  first.child.kill('SIGTERM');
  const exit = await first.exited;
  assert.deepEqual(exit, { code: 0, signal: null }, first.output());

  for (const [i, outcome] of (await Promise.all(finishing)).entries())
    assert.deepEqual(outcome, { value: { tag: 'abc'[i] } });
  for (const outcome of await Promise.all(stuck)) {
    assert.equal(outcome.error?.code, 'invocation_failed', String(outcome.error));
    assert.match(outcome.error.message, /unavailable\/shutting_down: /);
  }
  const stopped = first.logs().find((l) => l.msg === 'stopped');
  assert.deepEqual({ drained: stopped?.drained, cut: stopped?.cut }, { drained: 3, cut: 3 });

  // The next copy gets the job again; it runs once more and is done.
  const second = startSlowWorker();
  await waitFor('the job to be redelivered and finish', async () => (await state('k1:done'))?.attempt === 2);
  assert.equal((await state('k1')).attempts, 2);
  second.child.kill('SIGTERM');
  assert.deepEqual(await second.exited, { code: 0, signal: null }, second.output());
});

test('SIGTERM while the engine is unreachable still exits 0', { timeout: 60_000 }, async () => {
  const proc = startProcess(`node ${BUNDLE_ENTRY}`, {
    cwd: dir,
    env: { III_URL: 'ws://127.0.0.1:9', LOG_LEVEL: 'info' },
    args: ['--drain-ms', '200'],
  });
  await waitFor('the worker to try connecting', () => proc.output().includes('Reconnecting'));
  proc.child.kill('SIGTERM');
  assert.deepEqual(await proc.exited, { code: 0, signal: null }, proc.output());
});
