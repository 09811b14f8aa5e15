#!/usr/bin/env node
// Checks the npm packages as they would be published. See --help.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/workspace.mjs';
import { attwProblems, packPackages, publintProblems, publishablePackages } from './release/package-check.mjs';

const HELP = `Usage: node tools/release-check.mjs [--no-build] [<package>...]

Builds every package (nx run-many -t build), packs each publishable one with npm pack, and checks
the tarball: publint --strict (exports, types, files, bin against what is really packed) and
arethetypeswrong with the esm-only profile (types resolve for ESM consumers and bundlers).

  <package>    only these (folder names under packages/); default: every non-private package
  --no-build   check what is in dist/ now
  -h, --help   show this help

Exit codes: 0 clean, 1 a package has problems, 2 bad arguments.`;

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      'no-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  console.error(`release-check: ${error.message}\n\n${HELP}`);
  process.exit(2);
}
if (args.values.help) {
  console.log(HELP);
  process.exit(0);
}

const all = publishablePackages();
const unknown = args.positionals.filter((name) => !all.some((p) => p.folder === name));
if (unknown.length) {
  console.error(`release-check: not a publishable package: ${unknown.join(', ')}`);
  process.exit(2);
}
const selected = args.positionals.length ? all.filter((p) => args.positionals.includes(p.folder)) : all;

if (!args.values['no-build'])
  execFileSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' },
  });

const out = mkdtempSync(join(tmpdir(), 'iih-pack-'));
let failed = 0;
try {
  for (const packed of await packPackages(out, selected)) {
    const problems = [...(await publintProblems(packed.tarball)), ...(await attwProblems(packed.tarball))];
    if (problems.length) {
      failed++;
      console.error(`✗ ${packed.name}@${packed.version}\n${problems.map((p) => `    - ${p}`).join('\n')}`);
    } else console.log(`✓ ${packed.name}@${packed.version} (${packed.files.length} files)`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
console.log(`release-check: ${selected.length - failed} of ${selected.length} packages clean`);
process.exit(failed ? 1 : 0);
