import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listPackages, ROOT, readJson } from '../lib/workspace.mjs';
import { copyWorkspace, run } from './fixture.mjs';

test('a changeset naming only types bumps types, and its dependents as a patch', () => {
  const dir = copyWorkspace();
  try {
    const before = Object.fromEntries(listPackages(dir).map((p) => [p.pkg.name, p.pkg]));
    writeFileSync(
      join(dir, '.changeset/types-minor.md'),
      '---\n"@iii-harness/types": minor\n---\n\nNew wire schema.\n',
    );
    run(dir, 'changeset', ['version']);
    const after = Object.fromEntries(listPackages(dir).map((p) => [p.pkg.name, p.pkg]));
    const bump = (name) => [before[name].version, after[name].version];

    const [typesFrom, typesTo] = bump('@iii-harness/types');
    const [major, minor] = typesFrom.split('.').map(Number);
    assert.equal(typesTo, `${major}.${minor + 1}.0`);

    const dependents = Object.values(before)
      .filter((p) => '@iii-harness/types' in (p.dependencies ?? {}))
      .map((p) => p.name);
    assert.ok(dependents.includes('@iii-harness/runtime'));
    for (const name of dependents) {
      const [from, to] = bump(name);
      const [a, b, c] = from.split('.').map(Number);
      assert.equal(to, `${a}.${b}.${c + 1}`, `${name} should get a patch bump`);
      assert.equal(after[name].dependencies['@iii-harness/types'], `^${typesTo}`);
      assert.match(
        readFileSync(join(dir, 'packages', name.split('/')[1], 'CHANGELOG.md'), 'utf8'),
        /Updated dependencies/,
      );
    }
    for (const name of Object.keys(before).filter(
      (n) => n !== '@iii-harness/types' && !dependents.includes(n) && !dependsOnBumped(before[n], dependents),
    )) {
      assert.equal(after[name].version, before[name].version, `${name} must not be bumped`);
    }
    assert.equal(
      readJson(join(dir, 'packages/dev-engine/package.json')).version,
      before['@iii-harness/dev-engine'].version,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Packages that depend on a bumped dependent are themselves bumped (transitively); the rest are not.
function dependsOnBumped(pkg, bumped) {
  return Object.keys(pkg.dependencies ?? {}).some((d) => bumped.includes(d));
}

test('every changeset in .changeset parses and names workspace packages', async () => {
  const { default: parse } = await import('@changesets/parse');
  const names = new Set(listPackages().map(({ pkg }) => pkg.name));
  const dir = join(ROOT, '.changeset');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
    const { releases } = parse(readFileSync(join(dir, file), 'utf8'));
    assert.ok(releases.length > 0, `${file} names no package`);
    for (const { name, type } of releases) {
      assert.ok(names.has(name), `${file}: ${name} is not a workspace package`);
      assert.ok(['major', 'minor', 'patch'].includes(type), `${file}: ${type}`);
    }
  }
});
