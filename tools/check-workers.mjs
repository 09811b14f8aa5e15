#!/usr/bin/env node
// Fails when a worker package (nx tag type:worker) is missing a file or field a worker must have,
// so a half-made worker cannot land. Usage: node tools/check-workers.mjs [--help]
import { checkWorkerPackage } from './lib/check-worker.mjs';
import { isWorker, listPackages } from './lib/workspace.mjs';

if (process.argv.includes('--help')) {
  console.log(
    'Usage: node tools/check-workers.mjs\nChecks every packages/* tagged type:worker: iii.worker.yaml, bin, README sections, scripts (bundle included), sources, tests, register.ts serving contracts only.\nExit 1 when any is incomplete.',
  );
  process.exit(0);
}
const workers = listPackages().filter(isWorker);
let failed = 0;
for (const worker of workers) {
  const problems = checkWorkerPackage(worker);
  if (problems.length) {
    failed++;
    console.error(`✗ ${worker.pkg.name}\n${problems.map((p) => `    - ${p}`).join('\n')}`);
  } else console.log(`✓ ${worker.pkg.name}`);
}
console.log(`check-workers: ${workers.length - failed} of ${workers.length} worker packages complete`);
process.exit(failed ? 1 : 0);
