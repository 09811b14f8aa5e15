import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkGraph, findCycles } from '../lib/layers.mjs';
import { ROOT } from '../lib/workspace.mjs';
import { copyWorkspace, git, run } from './fixture.mjs';

test('the workspace graph has runtime → types, no cycles and no layer violations', () => {
  const dir = copyWorkspace();
  try {
    run(dir, 'nx', ['graph', '--file=graph.json']);
    const { edges, problems } = checkGraph(JSON.parse(readFileSync(join(dir, 'graph.json'), 'utf8')));
    assert.ok(edges.runtime.includes('types'), `runtime → ${edges.runtime}`);
    assert.deepEqual(edges.types, []);
    assert.deepEqual(edges['dev-engine'], []);
    assert.deepEqual(problems, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a change to types marks runtime affected', () => {
  const dir = copyWorkspace();
  try {
    writeFileSync(join(dir, 'packages/types/src/index.ts'), 'export const changed = true;\n');
    git(dir, 'commit', '-qam', 'change types');
    const affected = run(dir, 'nx', ['show', 'projects', '--affected', '--base=HEAD~1', '--head=HEAD'])
      .split('\n')
      .filter(Boolean);
    assert.ok(affected.includes('@iii-harness/types'), affected.join(','));
    assert.ok(affected.includes('@iii-harness/runtime'), affected.join(','));
    assert.ok(!affected.includes('@iii-harness/dev-engine'), affected.join(','));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cycles and layer violations are reported', () => {
  assert.deepEqual(findCycles({ a: ['b'], b: ['c'], c: ['a'] }), [['a', 'b', 'c', 'a']]);
  assert.deepEqual(findCycles({ a: ['b'], b: [] }), []);
  const graph = {
    graph: {
      nodes: {
        '@iii-harness/types': { data: { tags: ['type:lib'] } },
        '@iii-harness/session': { data: { tags: ['type:worker'] } },
        '@iii-harness/harness': { data: { tags: ['type:worker'] } },
      },
      dependencies: {
        '@iii-harness/types': [{ target: '@iii-harness/session' }],
        '@iii-harness/session': [{ target: '@iii-harness/harness' }, { target: 'npm:zod' }],
        '@iii-harness/harness': [],
      },
    },
  };
  const { problems } = checkGraph(graph);
  assert.ok(
    problems.includes('types must not depend on session (allowed: nothing in the workspace)'),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.startsWith('session must not depend on harness')),
    problems.join('\n'),
  );
});

test('check-graph.mjs passes on this workspace', () => {
  const out = execFileSync(process.execPath, [join(ROOT, 'tools/check-graph.mjs')], { cwd: ROOT, encoding: 'utf8' });
  assert.match(out, /0 problems/);
});
