// Shared by the bundle and release tests: an in-process dev engine, extracted bundles, worker
// processes and their logs, polling.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../lib/workspace.mjs';

const CACHE = join(ROOT, 'node_modules', '.cache', 'iih-tools');

/**
 * The dev engine, started in this process from its sources (bundled once into node_modules/.cache
 * so its own dependencies resolve from the workspace): memory only, ephemeral ports, silent.
 */
export async function startDevEngine() {
  const file = join(CACHE, `dev-engine-${process.pid}.mjs`);
  mkdirSync(CACHE, { recursive: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'packages/dev-engine/src/index.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'error',
  });
  const { startEngine } = await import(file);
  rmSync(file, { force: true });
  return startEngine({ port: 0, httpPort: 0, memory: true, logLevel: 'silent' });
}

/** A fresh directory under the OS temp dir, with no node_modules above it (checked). */
export function emptyDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (let d = dir; d !== dirname(d); d = dirname(d))
    if (existsSync(join(d, 'node_modules'))) throw new Error(`${d} has a node_modules folder; pick another TMPDIR`);
  return dir;
}

/** Extract a .tar.gz with the system tar (an independent reader of what tools/bundle wrote). */
export function extract(archive, prefix = 'iih-bundle-') {
  const dir = emptyDir(prefix);
  execFileSync('tar', ['-xzf', archive, '-C', dir]);
  return { dir, entries: listTree(dir) };
}

function listTree(dir, base = '') {
  return readdirSync(join(dir, base), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? [`${base}${e.name}/`, ...listTree(dir, `${base}${e.name}/`)] : [`${base}${e.name}`],
  );
}

const started = new Set();

/** SIGKILL every process startProcess started that is still running (for `after` hooks). */
export function killStarted() {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
}

/**
 * Start `command` with `sh -c` in `cwd`, as the iii engine runs `scripts.start`. Output is kept;
 * `exited` resolves with {code, signal}. The environment holds nothing from this workspace.
 */
export function startProcess(command, { cwd, env = {}, args = [] }) {
  // `exec` so signals reach the worker itself, as in a container whose entrypoint is the command.
  const child = spawn('sh', ['-c', `exec ${command} "$@"`, 'sh', ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd, OTEL_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    exited,
    output: () => output,
    /** pino JSON lines written so far. */
    logs: () =>
      output
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l);
          } catch {
            return undefined;
          }
        })
        .filter(Boolean),
  };
}

/** Poll `check` until it returns a truthy value; fail with `what` after `timeoutMs`. */
export async function waitFor(what, check, { timeoutMs = 60_000, everyMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Run `fn` over `items` with at most `limit` at a time; results in input order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** The error a call failed with, as {code, message} (the dev engine rejects with an ErrorBody). */
export async function callError(promise) {
  try {
    const value = await promise;
    return { resolved: value };
  } catch (error) {
    return { code: error?.code, message: error?.message ?? String(error) };
  }
}
