// Child processes of one bench run: the dev engine, a provider worker, a fake vendor server.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = new URL('../../../', import.meta.url).pathname;
const children = new Set();
const tempDirs = [];

export function stopAll() {
  for (const child of children) child.kill('SIGTERM');
  children.clear();
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function start(args, options = {}) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The dev engine (memory only, warn logs) on a free port; resolves with its ws URL once it listens. */
export async function startEngine() {
  const port = await freePort();
  const child = start(
    [
      join(repoRoot, 'packages/dev-engine/dist/main.js'),
      '--port',
      String(port),
      '--http-port',
      '0',
      '--memory',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  await waitForPort(port, child);
  return { url: `ws://127.0.0.1:${port}`, child };
}

/** A provider worker process (its dist/main.js) with its config section written to a temp YAML file. */
export function startWorker({ main, section, config, env = {} }, engineUrl) {
  const dir = mkdtempSync(join(tmpdir(), 'provider-bench-'));
  tempDirs.push(dir);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, JSON.stringify({ [section]: config })); // YAML is a superset of JSON
  return start([join(repoRoot, main), '--url', engineUrl, '--config', file, '--log-level', 'info'], {
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, ...env },
  });
}

/** The case's fake vendor in its own process (fake-child.mjs); resolves with its base URL. */
export async function startFake(caseFile) {
  const child = start([new URL('./fake-child.mjs', import.meta.url).pathname, caseFile]);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (data) => {
      out += data;
      const match = /READY (\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`fake vendor exited early (${code})`)));
  });
  return { url, child };
}

async function waitForPort(port, child) {
  const { connect } = await import('node:net');
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}
