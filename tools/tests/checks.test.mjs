// The gates `npm test` runs besides the tests (Biome, knip) must be able to fail: each is run on a
// throwaway folder holding one violation, with the workspace's own configuration.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../lib/workspace.mjs';

const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

function folderWith(files) {
  const dir = mkdtempSync(join(tmpdir(), 'iih-check-'));
  cpSync(join(ROOT, 'biome.jsonc'), join(dir, 'biome.jsonc'));
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
