// A release you can trust, end to end: build, check the packed packages (publint, arethetypeswrong),
// publish every package with `changeset publish` to a local Verdaccio (no uplinks), install one
// worker at its pinned version in a fresh directory, start its bin against a dev engine, see it
// serve, and stop it with SIGTERM. Slow (a full build), so it runs only with IIH_RELEASE_TEST=1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../lib/workspace.mjs';
import { startLocalRegistry } from '../release/local-registry.mjs';
import { attwProblems, packPackages, publintProblems, publishablePackages } from '../release/package-check.mjs';
import { emptyDir, killStarted, startDevEngine, startProcess, waitFor } from './bundle-helpers.mjs';

const run = promisify(execFile);
const ENABLED = process.env.IIH_RELEASE_TEST === '1';
const WORKER = 'provider-kimi';

const cleanups = [];
after(async () => {
  killStarted();
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Run a command without blocking this process (Verdaccio answers from this event loop). */
async function sh(command, args, options = {}) {
  try {
    return await run(command, args, { maxBuffer: 64 * 1024 * 1024, ...options });
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')} failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`);
  }
}

test('every package publishes to a local registry; a worker installed from it at a pinned version starts and serves', {
  skip: !ENABLED && 'set IIH_RELEASE_TEST=1 to run (a full build, then publish and install: minutes)',
  timeout: 30 * 60_000,
}, async (t) => {
  let since = Date.now();
  const phase = (name) => {
    t.diagnostic(`${name}: ${((Date.now() - since) / 1000).toFixed(1)} s`);
    since = Date.now();
  };
  await sh('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], {
    cwd: ROOT,
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' },
  });

  phase('build');
  const packages = publishablePackages();
  const packDir = mkdtempSync(join(tmpdir(), 'iih-pack-'));
  cleanups.push(() => rmSync(packDir, { recursive: true, force: true }));
  for (const packed of await packPackages(packDir, packages)) {
    const problems = [...(await publintProblems(packed.tarball)), ...(await attwProblems(packed.tarball))];
    assert.deepEqual(problems, [], `${packed.name}: ${problems.join('; ')}`);
  }

  phase(`publint + arethetypeswrong on ${packages.length} packed packages`);
  const registry = await startLocalRegistry();
  cleanups.push(() => registry.close());
  // Never the real registry: everything below publishes to this loopback server only.
  assert.match(registry.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  // The lockfile must record where each package came from (checked below), whatever the machine's
  // npm config says: CI machines set omit-lockfile-registry-resolved in npm's global config.
  const npmEnv = {
    ...process.env,
    npm_config_userconfig: registry.npmrc,
    npm_config_omit_lockfile_registry_resolved: 'false',
  };
  // changesets passes the scope's registry explicitly, read from this variable (else npmjs).
  await sh('npx', ['changeset', 'publish', '--no-git-tag'], {
    cwd: ROOT,
    env: { ...npmEnv, 'npm_config_@iii-harness:registry': registry.url },
  });
  for (const { pkg } of packages) {
    const response = await fetch(`${registry.url}${pkg.name.replace('/', '%2f')}`);
    assert.equal(response.status, 200, `${pkg.name} was not published`);
    const doc = await response.json();
    assert.ok(doc.versions[pkg.version], `${pkg.name}@${pkg.version} was not published`);
  }

  phase(`changeset publish of ${packages.length} packages to the local registry`);
  const version = packages.find((p) => p.folder === WORKER).pkg.version;
  const app = emptyDir('iih-install-');
  cleanups.push(() => rmSync(app, { recursive: true, force: true }));
  writeFileSync(join(app, 'package.json'), '{ "name": "release-test-app", "private": true }\n');
  await sh(
    'npm',
    ['install', `@iii-harness/${WORKER}@${version}`, '--save-exact', '--no-audit', '--no-fund', '--prefer-offline'],
    { cwd: app, env: npmEnv },
  );
  const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8'));
  const ours = Object.entries(lock.packages).filter(([path]) => path.includes('node_modules/@iii-harness/'));
  assert.ok(ours.length >= 4, `expected the worker and its @iii-harness libraries, got ${ours.map(([p]) => p)}`);
  for (const [path, entry] of ours)
    assert.ok(entry.resolved?.startsWith(registry.url), `${path} came from ${entry.resolved}, not the local registry`);
  assert.equal(lock.packages[`node_modules/@iii-harness/${WORKER}`].version, version);
  assert.ok(!existsSync(join(app, 'node_modules/@iii-harness', WORKER, 'src')), 'sources are not published');

  phase(`npm install @iii-harness/${WORKER}@${version} in a fresh directory`);
  const bin = join(app, 'node_modules', '.bin', `iii-${WORKER}`);
  assert.equal((await sh(bin, ['--version'])).stdout.trim(), version);

  const engine = await startDevEngine();
  cleanups.push(() => engine.close());
  const proc = startProcess(bin, { cwd: app, env: { III_URL: engine.url }, args: ['--health-port', '0'] });
  const port = await waitFor('the health endpoint', () => proc.logs().find((l) => l.health_port)?.health_port);
  await waitFor('/readyz to answer 200', async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok);
  const { functions } = await engine.api.call('engine::functions::list', { prefix: 'provider::kimi::' });
  assert.deepEqual(functions.map((f) => f.function_id).sort(), [
    'provider::kimi::abort',
    'provider::kimi::complete',
    'provider::kimi::refresh_models',
    'provider::kimi::stream',
  ]);
  assert.deepEqual(await engine.api.call('provider::kimi::abort', { request_id: 'release-test' }), { aborted: false });
  proc.child.kill('SIGTERM');
  assert.deepEqual(await proc.exited, { code: 0, signal: null }, proc.output());
  phase('start, serve, SIGTERM');
});
