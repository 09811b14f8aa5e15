// Every worker's iii registry bundle, extracted into an empty directory (no node_modules
// anywhere above it) and started with its manifest's scripts.start against a dev engine, registers
// the functions its README lists, answers a call, and exits 0 on SIGTERM.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { bundleWorker } from '../bundle/build.mjs';
import { BUNDLE_LIMITS } from '../bundle/tar.mjs';
import { listPackages } from '../lib/workspace.mjs';
import { callError, extract, killStarted, mapLimit, startDevEngine, startProcess, waitFor } from './bundle-helpers.mjs';

const workers = listPackages().filter((p) => existsSync(join(p.dir, 'iii.worker.yaml')));
const EXPECTED_ENTRIES = [
  'README.md',
  'THIRD-PARTY-NOTICES.txt',
  'dist/',
  'dist/main.js',
  'iii.worker.yaml',
  'package.json',
];

/** Function ids in the first column of the README's "## Functions" table. */
function readmeFunctionIds(dir) {
  const text = readFileSync(join(dir, 'README.md'), 'utf8');
  const section = text.split(/^## /m).find((s) => s.startsWith('Functions')) ?? '';
  const ids = new Set();
  for (const line of section.split('\n')) {
    const first = line.startsWith('|') ? line.split('|')[1] : undefined;
    for (const [, id] of first?.matchAll(/`([a-z][a-z0-9_-]*(?:::[a-z0-9_-]+)+)`/g) ?? []) ids.add(id);
  }
  return [...ids];
}

/** Which worker registered a function: the longest worker name its reported name starts with. */
function ownerOf(workerName) {
  const matches = workers.map((w) => w.folder).filter((name) => workerName === name || workerName.startsWith(name));
  return matches.sort((a, b) => b.length - a.length)[0];
}

describe('iii registry bundles', { concurrency: 3 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'iih-bundles-'));
  const bundles = new Map();
  let engine;

  before(async () => {
    // esbuild is multi-threaded already: two at a time keeps a 2-core machine usable.
    const built = await mapLimit(workers, 2, (w) => bundleWorker(w.dir, { outDir: out }));
    for (const b of built) bundles.set(b.name, b);
    engine = await startDevEngine();
  });

  after(async () => {
    killStarted();
    await engine?.close();
    rmSync(out, { recursive: true, force: true });
  });

  it('covers every worker package', () => {
    assert.ok(workers.length >= 14, `expected at least 14 workers, found ${workers.length}`);
    assert.deepEqual([...bundles.keys()].sort(), workers.map((w) => w.folder).sort());
    for (const { folder, pkg } of workers) {
      assert.equal(
        pkg.scripts?.bundle,
        'node ../../tools/bundle.mjs',
        `${folder}: package.json needs the bundle script`,
      );
      assert.ok(pkg.nx?.includedScripts?.includes('bundle'), `${folder}: nx.includedScripts needs "bundle"`);
    }
  });

  for (const worker of workers) {
    it(`${worker.folder}: runs from an empty directory and serves its functions`, { timeout: 180_000 }, async () => {
      const bundle = bundles.get(worker.folder);
      assert.ok(bundle.bytes < BUNDLE_LIMITS.totalBytes);
      const { dir, entries } = extract(bundle.file);
      try {
        assert.deepEqual(entries.sort(), EXPECTED_ENTRIES);
        const manifest = parse(readFileSync(join(dir, 'iii.worker.yaml'), 'utf8'));
        assert.equal(manifest.name, worker.folder);
        assert.equal(manifest.deploy, 'bundle');
        assert.ok(manifest.scripts?.start, 'scripts.start');
        assert.equal(manifest.scripts.install, undefined, 'bundles may not carry scripts.install');
        assert.equal(manifest.scripts.setup, undefined, 'bundles may not carry scripts.setup');
        assert.equal(manifest.runtime?.base_image, undefined, 'bundles may not carry runtime.base_image');
        assert.equal(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version, worker.pkg.version);

        const proc = startProcess(manifest.scripts.start, {
          cwd: dir,
          env: { III_URL: engine.url, III_WORKER_NAME: manifest.name, LOG_LEVEL: 'warn' },
        });
        try {
          const promised = readmeFunctionIds(worker.dir);
          const served = await waitFor(
            `${worker.folder} to register ${promised.join(', ') || 'a function'}`,
            async () => {
              if (proc.child.exitCode !== null) throw new Error(`exited early:\n${proc.output()}`);
              const { functions } = await engine.api.call('engine::functions::list', { include_internal: true });
              const ids = functions.filter((f) => ownerOf(f.worker_name) === worker.folder).map((f) => f.function_id);
              return ids.length > 0 && promised.every((id) => ids.includes(id)) ? ids : undefined;
            },
            { timeoutMs: 90_000 },
          );
          // A payload no contract accepts: the bundled handler validates it and answers with our error code.
          const probe = await callError(engine.api.call(served[0], 'bundle-probe'));
          assert.equal(probe.code, 'invocation_failed', `${served[0]} answered ${JSON.stringify(probe)}`);
          assert.match(probe.message, /^invalid_payload: /);
        } finally {
          proc.child.kill('SIGTERM');
        }
        const exit = await proc.exited;
        assert.deepEqual(exit, { code: 0, signal: null }, `SIGTERM should exit 0:\n${proc.output()}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
