// The package checks of tools/release-check.mjs must be able to fail: a well-formed ESM package
// passes; one whose exports point at files it does not ship, or whose types lie about the
// module format, is caught by publint and by arethetypeswrong.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { attwProblems, publintProblems } from '../release/package-check.mjs';

const root = mkdtempSync(join(tmpdir(), 'iih-pkgcheck-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Write a package from {file: text} and `npm pack` it; returns the tarball path. */
function pack(name, pkg, files) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: `@iih-check/${name}`,
      version: '1.0.0',
      description: 'fixture',
      license: 'Apache-2.0',
      repository: { type: 'git', url: 'git+https://github.com/iii-harness/iii-harness.git', directory: name },
      type: 'module',
      ...pkg,
    }),
  );
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', root], { cwd: dir, encoding: 'utf8' });
  return join(root, JSON.parse(out)[0].filename);
}

const esm = { 'index.js': 'export const x = 1;\n', 'index.d.ts': 'export declare const x: number;\n' };

test('a well-formed ESM package passes publint and arethetypeswrong', async () => {
  const tarball = pack(
    'good',
    { exports: { '.': { types: './index.d.ts', default: './index.js' } }, files: ['index.js', 'index.d.ts'] },
    esm,
  );
  assert.deepEqual(await publintProblems(tarball), []);
  assert.deepEqual(await attwProblems(tarball), []);
});

test('exports naming files that are not shipped are caught', async () => {
  const tarball = pack(
    'missing-files',
    { exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } }, files: ['index.js'] },
    esm,
  );
  const publint = await publintProblems(tarball);
  assert.ok(
    publint.some((p) => p.includes('dist/index.js')),
    publint.join('\n'),
  );
  assert.ok((await attwProblems(tarball)).length > 0);
});

test('types that claim CommonJS for an ESM file are caught', async () => {
  const tarball = pack(
    'false-cjs',
    { exports: { '.': { types: './index.d.cts', default: './index.js' } }, files: ['index.js', 'index.d.cts'] },
    { 'index.js': esm['index.js'], 'index.d.cts': esm['index.d.ts'] },
  );
  const attw = await attwProblems(tarball);
  assert.ok(
    attw.some((p) => p.startsWith('attw FalseCJS')),
    attw.join('\n'),
  );
});
