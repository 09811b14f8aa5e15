#!/usr/bin/env node
// What `npm start` runs once the workspace is built: `iii-harness dev` (the dev engine and every
// worker, logs to files), and on a terminal a chat in the same window (`--chat`). Every option is
// `iii-harness dev`'s (see `node tools/start-stack.mjs --help`); `--no-chat` only starts the stack.
// On a first run it writes the starter config and permissions (`iii-harness init`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib/workspace.mjs';

const cli = join(ROOT, 'packages', 'cli', 'dist', 'main.js');
if (!existsSync(cli)) {
  console.error('start-stack: the CLI is not built: run `npm run build` first (`npm start` does)');
  process.exit(1);
}

const args = process.argv.slice(2);
const helping = args.includes('--help') || args.includes('-h');

// A first run: without a permissions file the harness denies every call, so write the starter
// files (`iii-harness init` explains them; it never overwrites one; both are git-ignored here).
if (!helping && !existsSync('iii-permissions.yaml')) {
  const init = spawnSync(process.execPath, [cli, 'init'], { stdio: 'inherit' });
  if (init.status !== 0) process.exit(init.status ?? 1);
}
const interactive = process.stdin.isTTY && process.stdout.isTTY && !args.includes('--no-chat');
const devArgs = ['dev', ...args.filter((a) => a !== '--no-chat')];
if (interactive && !helping && !devArgs.includes('--chat')) devArgs.push('--chat');

const child = spawn(process.execPath, [cli, ...devArgs], { stdio: 'inherit' });
// Ctrl-C reaches `iii-harness dev` directly (same process group): it stops everything, and we
// leave with its exit code. Signals sent to this process alone are passed on.
process.on('SIGINT', () => undefined);
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
