#!/usr/bin/env node
// Builds iii registry bundles (deploy: bundle) for worker packages. See --help.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorker } from './bundle/build.mjs';
import { listPackages } from './lib/workspace.mjs';

const HELP = `Usage: node tools/bundle.mjs [--all | <package>...] [--out <dir>] [--json]

Builds the iii registry bundle of each worker (a package with an iii.worker.yaml): src/main.ts
and every dependency in one ESM file (dist/main.js), iii.worker.yaml without install/setup
scripts, package.json, README.md and third-party notices, as <name>-<version>.iii.tar.gz plus a
.sha256 file. No build is needed first: workspace packages are bundled from their sources.

  <package>    a folder under packages/ (provider-kimi) or a package directory; without one,
               the package in the current directory (what \`npm run bundle\` in a worker does)
  --all        every worker package
  --out <dir>  where archives go (default: <package>/bundle/)
  --json       print a JSON array of what was built instead of one line per worker
  -h, --help   show this help

Exit codes: 0 all built, 1 a bundle failed (or broke the registry limits), 2 bad arguments.`;

let args;
try {
  args = parseArgs({
    allowPositionals: true,
    options: {
      all: { type: 'boolean', default: false },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  console.error(`bundle: ${error.message}\n\n${HELP}`);
  process.exit(2);
}
if (args.values.help) {
  console.log(HELP);
  process.exit(0);
}

const isBundleable = (dir) => existsSync(join(dir, 'iii.worker.yaml')) && existsSync(join(dir, 'src', 'main.ts'));
const workers = listPackages().filter((p) => isBundleable(p.dir));

function pick() {
  if (args.values.all) return workers.map((w) => w.dir);
  const named = args.positionals.length ? args.positionals : [process.cwd()];
  return named.map((name) => {
    const byFolder = workers.find((w) => w.folder === name || w.pkg.name === name);
    const dir = byFolder?.dir ?? resolve(name);
    if (!isBundleable(dir)) {
      console.error(`bundle: ${name} is not a worker package (no iii.worker.yaml or src/main.ts)`);
      process.exit(2);
    }
    return dir;
  });
}

const kb = (n) => `${(n / 1024).toFixed(0)} kB`;
const built = [];
let failed = 0;
for (const dir of pick()) {
  try {
    const out = args.values.out ? resolve(args.values.out) : undefined;
    const bundle = await bundleWorker(dir, out ? { outDir: out } : {});
    built.push(bundle);
    if (!args.values.json)
      console.log(
        `✓ ${bundle.name}@${bundle.version}  ${bundle.relativeFile}  ${kb(bundle.bytes)} (${kb(bundle.unpackedBytes)} unpacked, ${bundle.entries.length} entries)  sha256 ${bundle.sha256}`,
      );
  } catch (error) {
    failed++;
    console.error(`✗ ${basename(dir)}: ${error.message}`);
  }
}
if (args.values.json)
  console.log(
    JSON.stringify(
      built.map(({ manifest, ...rest }) => rest),
      null,
      2,
    ),
  );
process.exit(failed ? 1 : 0);
