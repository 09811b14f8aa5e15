// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): self time per function and per file.
//   node bench/profile-summary.mjs <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Self time of a node = its sample count × the mean sampling interval.
const interval = (profile.endTime - profile.startTime) / profile.samples.length / 1000; // ms
const hits = new Map();
for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);

const byFunction = new Map();
const byFile = new Map();
let total = 0;
for (const node of profile.nodes) {
  const count = hits.get(node.id) ?? 0;
  if (!count) continue;
  total += count;
  const { functionName, url, lineNumber } = node.callFrame;
  const shortUrl = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dev-engine\//, '');
  const fnKey = `${functionName || '(anonymous)'}  ${shortUrl}:${lineNumber + 1}`;
  byFunction.set(fnKey, (byFunction.get(fnKey) ?? 0) + count);
  const fileKey = shortUrl || `(${functionName})`;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + count);
}

const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [key, count] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${((100 * count) / total).toFixed(1).padStart(5)}%  ${(count * interval).toFixed(0).padStart(6)} ms  ${key}`,
    );
  }
};
console.log(`${file}: ${(total * interval).toFixed(0)} ms sampled`);
print('self time by function', byFunction);
print('self time by file', byFile);
