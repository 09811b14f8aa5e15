#!/usr/bin/env node
// Runs the whole harness locally: the dev engine and every worker as its own process, like
// production with the real engine. Ctrl-C stops everything. Needs `npm run build` first.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/workspace.mjs';

const WORKERS = [
  'session',
  'models-catalog',
  'auth-credentials',
  'harness',
  'approval-gate',
  'hook-fanout',
  'turn-orchestrator',
  'provider-anthropic',
  'provider-openai',
  'provider-kimi',
  'provider-lmstudio',
  'provider-llamacpp',
  'web',
  'console',
];

const HELP = `Usage: node tools/start-stack.mjs [options]

Starts the iii dev engine and every iii-harness worker (each its own process).

Options:
  --port <n>        engine worker port (default 49134)
  --data-dir <dir>  engine data dir (default ./.iii-data); --memory for a throwaway run
  --memory          keep engine state in memory
  --config <file>   worker config YAML (sections per worker), passed to every worker
  --only <a,b>      start only these workers
  --log-level <l>   fatal|error|warn|info|debug|trace (default info)
  -h, --help        show this help

Exit codes: 0 after Ctrl-C, 1 when a process fails to start, 2 on bad options.`;

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      port: { type: 'string', default: '49134' },
      'data-dir': { type: 'string', default: './.iii-data' },
      memory: { type: 'boolean', default: false },
      config: { type: 'string' },
      only: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (error) {
  console.error(`start-stack: ${error.message}\n\n${HELP}`);
  process.exit(2);
}
if (options.help) {
  console.log(HELP);
  process.exit(0);
}

const main = (pkg) => join(ROOT, 'packages', pkg, 'dist', 'main.js');
const selected = options.only ? options.only.split(',').map((s) => s.trim()) : WORKERS;
const unknown = selected.filter((w) => !WORKERS.includes(w));
if (unknown.length) {
  console.error(`start-stack: unknown worker(s) ${unknown.join(', ')}; known: ${WORKERS.join(', ')}`);
  process.exit(2);
}
const missing = ['dev-engine', ...selected].filter((pkg) => !existsSync(main(pkg)));
if (missing.length) {
  console.error(`start-stack: not built: ${missing.join(', ')} — run \`npm run build\` first`);
  process.exit(1);
}

const url = `ws://127.0.0.1:${options.port}`;
const children = [];
let stopping = false;

function start(name, script, args) {
  const child = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, LOG_LEVEL: options['log-level'] },
  });
  child.on('exit', (code, signal) => {
    if (!stopping) console.error(`start-stack: ${name} exited (${signal ?? `code ${code}`})`);
  });
  children.push({ name, child });
  return child;
}

function stopAll() {
  if (stopping) return;
  stopping = true;
  for (const { child } of children.reverse()) child.kill('SIGTERM');
  setTimeout(() => process.exit(0), 3_000).unref();
}
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

const engineArgs = [
  '--port',
  options.port,
  '--log-level',
  options['log-level'],
  ...(options.memory ? ['--memory'] : ['--data-dir', options['data-dir']]),
];
start('dev-engine', main('dev-engine'), engineArgs);
// Workers reconnect until the engine is up, so they can start right away.
const workerArgs = [
  '--url',
  url,
  '--log-level',
  options['log-level'],
  ...(options.config ? ['--config', options.config] : []),
];
for (const worker of selected) start(worker, main(worker), workerArgs);

if (!options.config || !existsSync(join(process.cwd(), 'iii-permissions.yaml'))) {
  console.error(
    'start-stack: note: agents are denied every call until a permissions file exists ' +
      `(default ./iii-permissions.yaml; example: packages/harness/iii-permissions.example.yaml)`,
  );
}
console.error(`start-stack: engine on ${url}; ${selected.length} workers starting. Ctrl-C stops everything.`);
