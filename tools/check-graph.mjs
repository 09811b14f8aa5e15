#!/usr/bin/env node
// Builds Nx's project graph and fails on cycles or on imports that break the layers of
// ARCHITECTURE §2 (a worker importing another worker, types importing runtime, ...).
// Usage: node tools/check-graph.mjs [--print]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkGraph } from './lib/layers.mjs';
import { ROOT } from './lib/workspace.mjs';

if (process.argv.includes('--help')) {
  console.log(
    'Usage: node tools/check-graph.mjs [--print]\nFails (exit 1) on project-graph cycles or layer violations; --print lists the edges.',
  );
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'iih-graph-'));
const file = join(dir, 'graph.json');
try {
  execFileSync(join(ROOT, 'node_modules/.bin/nx'), ['graph', `--file=${file}`], {
    cwd: ROOT,
    stdio: 'pipe',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
  const { edges, problems } = checkGraph(JSON.parse(readFileSync(file, 'utf8')));
  if (process.argv.includes('--print'))
    for (const [name, deps] of Object.entries(edges).sort()) console.log(`${name} → ${deps.join(', ') || '(nothing)'}`);
  for (const problem of problems) console.error(`✗ ${problem}`);
  console.log(`check-graph: ${Object.keys(edges).length} projects, ${problems.length} problems`);
  process.exitCode = problems.length ? 1 : 0;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
