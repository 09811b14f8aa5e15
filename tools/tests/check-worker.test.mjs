import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkWorkerPackage } from '../lib/check-worker.mjs';

function makeWorker(overrides = {}) {
  const dir = join(mkdtempSync(join(tmpdir(), 'iih-worker-')), 'session');
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'tests'));
  const pkg = {
    name: '@iii-harness/session',
    bin: { 'iii-session': 'dist/main.js' },
    files: ['dist', 'iii.worker.yaml'],
    scripts: { build: 'tsc', test: 'jest', typecheck: 'tsc --noEmit' },
    ...overrides.pkg,
  };
  const files = {
    'package.json': JSON.stringify(pkg),
    'iii.worker.yaml':
      'iii: v1\nname: session\ndescription: Session tree.\ndeploy: bundle\nmanifest: package.json\nscripts:\n  start: node dist/main.js\n',
    'README.md': '# session\n\n## Functions\n\n## Config\n\n## Events\n',
    'src/main.ts': '',
    'src/register.ts': '',
    'src/index.ts': '',
    'tests/a.test.ts': '',
    ...overrides.files,
  };
  for (const [name, text] of Object.entries(files))
    if (text === null) rmSync(join(dir, name), { force: true });
    else writeFileSync(join(dir, name), text);
  return { dir, folder: 'session', pkg };
}

test('a complete worker passes', () => {
  assert.deepEqual(checkWorkerPackage(makeWorker()), []);
});

test('a half-made worker is rejected with every missing piece named', () => {
  const worker = makeWorker({
    pkg: { bin: {}, scripts: { build: 'tsc' } },
    files: {
      'iii.worker.yaml': null,
      'README.md': '# session\n\n## Functions\n',
      'src/register.ts': null,
      'tests/a.test.ts': null,
    },
  });
  const problems = checkWorkerPackage(worker);
  for (const expected of [
    'bin "iii-session"',
    'missing script "test"',
    'missing script "typecheck"',
    'missing iii.worker.yaml',
    '"## Config"',
    '"## Events"',
    'missing src/register.ts',
    'tests/ must hold',
  ]) {
    assert.ok(
      problems.some((p) => p.includes(expected)),
      `expected a problem mentioning ${expected}, got:\n${problems.join('\n')}`,
    );
  }
});

test('manifest keys the iii engine would reject are caught', () => {
  const worker = makeWorker({
    files: {
      'iii.worker.yaml':
        'name: sessions\nversion: 1.0.0\ndeploy: docker\nscripts:\n  start: x\n  build: y\nenv:\n  PORT: 3\n',
    },
  });
  const problems = checkWorkerPackage(worker);
  for (const expected of [
    'unknown key "version"',
    'unknown key "scripts.build"',
    'env.PORT must be a string',
    'must equal the package',
    'deploy must be',
    'manifest must be package.json',
    'description is required',
  ]) {
    assert.ok(
      problems.some((p) => p.includes(expected)),
      `expected ${expected} in:\n${problems.join('\n')}`,
    );
  }
});
