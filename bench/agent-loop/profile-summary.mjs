#!/usr/bin/env node
// Self time of a V8 .cpuprofile grouped by where the code lives (our packages, the engine, the
// SDK, ws, zod, LangGraph, Node internals, GC, idle), then the top functions.
//   node --cpu-prof --cpu-prof-dir=profiles run.mjs --only=ours --quick --no-write --no-trace
//   node profile-summary.mjs profiles/<file>.cpuprofile [top=30]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node profile-summary.mjs <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8'));

/** Where a frame's code lives. */
function groupOf({ url, functionName }) {
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
  const pkg = /\/packages\/([^/]+)\//.exec(url);
  if (pkg) return pkg[1] === 'dev-engine' ? 'engine (dev-engine)' : `worker code: ${pkg[1]}`;
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (mod) return mod[1];
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/').slice(0, 2).join('/')}`;
  return url.replace(/^.*\/bench\//, 'bench/');
}

const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
const byGroup = new Map();
const byFunction = new Map();
let total = 0;
for (const node of profile.nodes) {
  const count = hits.get(node.id) ?? 0;
  if (!count) continue;
  total += count;
  const frame = node.callFrame;
  const group = groupOf(frame);
  byGroup.set(group, (byGroup.get(group) ?? 0) + count);
  const key = `${frame.functionName || '(anonymous)'}  ${frame.url.replace(/^.*\/(packages|node_modules)\//, '')}:${frame.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + count);
}
const idle = byGroup.get('(idle)') ?? 0;
const pct = (n, of = total) => `${((100 * n) / of).toFixed(1).padStart(5)} %`;
console.log(`${total} samples; idle ${pct(idle)}; shares below are of the busy samples (${total - idle})`);
console.log('\nby where the code lives:');
for (const [group, n] of [...byGroup]
  .filter(([g]) => g !== '(idle)')
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`${pct(n, total - idle)}  ${group}`);
console.log('\ntop functions (self time):');
for (const [fn, n] of [...byFunction]
  .filter(([f]) => !f.startsWith('(idle)'))
  .sort((a, b) => b[1] - a[1])
  .slice(0, top))
  console.log(`${pct(n, total - idle)}  ${fn}`);
