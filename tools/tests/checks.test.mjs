// The gates `npm test` runs besides the tests (Biome, knip) must be able to fail: each is run on a
// throwaway folder holding one violation, with the workspace's own configuration.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../lib/workspace.mjs';

const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

function folderWith(files) {
  const dir = mkdtempSync(join(tmpdir(), 'iih-check-'));
  cpSync(join(ROOT, 'biome.jsonc'), join(dir, 'biome.jsonc'));
  cpSync(join(ROOT, 'knip.jsonc'), join(dir, 'knip.jsonc'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const biome = (dir) =>
  spawnSync(bin('biome'), ['ci', '--vcs-enabled=false', '--error-on-warnings', '.'], { cwd: dir, encoding: 'utf8' });

test('biome passes clean code and fails a lint error and a formatting error', () => {
  const clean = folderWith({ 'src/ok.ts': 'export const ok = (a: number): number => a + 1;\n' });
  assert.equal(biome(clean).status, 0, biome(clean).stdout + biome(clean).stderr);

  const lint = folderWith({ 'src/bad.ts': 'export function f(x: any) {\n  return x;\n}\n' });
  const linted = biome(lint);
  assert.notEqual(linted.status, 0);
  assert.match(linted.stdout + linted.stderr, /noExplicitAny/);

  const format = folderWith({ 'src/ugly.ts': 'export const   ugly = {a:1}\n' });
  assert.notEqual(biome(format).status, 0);
});

// The gate as `npm test` runs it, minus the configuration hints: the workspace's knip.jsonc names
// packages this throwaway workspace does not have.
const knip = (dir) => spawnSync(bin('knip'), ['--no-progress', '--no-config-hints'], { cwd: dir, encoding: 'utf8' });

/** A one-package workspace in the repository's shape: `twice` in the entry uses `add` from math.ts. */
function workspaceWith({ math, extra = {}, dependencies = {} }) {
  return folderWith({
    'package.json': JSON.stringify({ name: 'fixture', private: true, type: 'module', workspaces: ['packages/*'] }),
    'packages/demo/package.json': JSON.stringify({
      name: '@fixture/demo',
      type: 'module',
      exports: { '.': './src/index.ts' },
      dependencies,
    }),
    'packages/demo/src/index.ts': "import { add } from './math.js';\nexport const twice = (a: number) => add(a, a);\n",
    'packages/demo/src/math.ts': math,
    ...extra,
  });
}

const ADD = 'export const add = (a: number, b: number) => a + b;\n';

test('npm test runs the knip gate, failing on its configuration hints too (a stale ignore)', () => {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.match(scripts.test, /(^|&& )knip --no-progress --treat-config-hints-as-errors &&/);
});

test('knip passes a workspace where everything is used, and fails an unused export, file or dependency', () => {
  const clean = knip(workspaceWith({ math: ADD }));
  assert.equal(clean.status, 0, clean.stdout + clean.stderr);

  const exported = knip(workspaceWith({ math: `${ADD}export const sub = (a: number, b: number) => a - b;\n` }));
  assert.notEqual(exported.status, 0);
  assert.match(exported.stdout, /Unused exports[\s\S]*sub\s+packages\/demo\/src\/math\.ts/);

  // Used in its own file only: alive (knip.jsonc says why that passes).
  const internal = knip(
    workspaceWith({ math: 'export const ZERO = 0;\nexport const add = (a: number, b: number) => a + b + ZERO;\n' }),
  );
  assert.equal(internal.status, 0, internal.stdout + internal.stderr);

  const orphan = knip(
    workspaceWith({ math: ADD, extra: { 'packages/demo/src/orphan.ts': 'export const lost = 1;\n' } }),
  );
  assert.notEqual(orphan.status, 0);
  assert.match(orphan.stdout, /Unused files[\s\S]*packages\/demo\/src\/orphan\.ts/);

  const dependency = knip(workspaceWith({ math: ADD, dependencies: { zod: '^4.0.0' } }));
  assert.notEqual(dependency.status, 0);
  assert.match(dependency.stdout, /Unused dependencies[\s\S]*zod/);
});
