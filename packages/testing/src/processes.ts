import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';

/**
 * Real child processes for crash tests and benchmarks: a worker's or the engine's own bin, killed
 * with SIGKILL when a test says so. Everything here runs built code (`dist/`): build first.
 */

/** A port free right now (bound and released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** A child process we can SIGKILL; its output is kept for failure messages. */
export class ChildProc {
  readonly output: string[] = [];
  /** Settles when the OS has reaped the process. */
  readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk) => this.output.push(String(chunk)));
    this.exited = new Promise((done) => child.once('exit', () => done()));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill -9, and wait until the OS has reaped it. */
  async kill9(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
  async stop(graceMs = 3_000): Promise<void> {
    if (this.alive) this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((done) => (timer = setTimeout(done, graceMs)))]);
    clearTimeout(timer);
    await this.kill9();
  }

  /** The last lines it wrote (stdout and stderr), for an error message. */
  tail(lines = 20): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }
}

export interface SpawnNodeOptions {
  /** Added to the parent's environment (OTel export off and warn-level logs by default). */
  env?: NodeJS.ProcessEnv;
  /** Keep stdout and stderr (default) or drop them. */
  output?: 'keep' | 'ignore';
}

/** `node <script> <args>` as a ChildProc. */
export function spawnNode(
  name: string,
  script: string,
  args: string[] = [],
  options: SpawnNodeOptions = {},
): ChildProc {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, OTEL_ENABLED: 'false', LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', options.output === 'ignore' ? 'ignore' : 'pipe', options.output === 'ignore' ? 'ignore' : 'pipe'],
  });
  return new ChildProc(name, child);
}

/** Resolves once 127.0.0.1:`port` accepts a connection; rejects when `proc` exits first or time runs out. */
export async function waitForPort(port: number, proc?: ChildProc, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (proc && !proc.alive) throw new Error(`${proc.name} exited before listening on ${port}:\n${proc.tail()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((done) => setTimeout(done, 50));
  }
  throw new Error(`nothing listens on ${port} after ${timeoutMs} ms${proc ? `:\n${proc.tail()}` : ''}`);
}

/**
 * The script an installed package's bin runs (`<package>/dist/main.js` for ours), found from the
 * current directory as `npx` would find it.
 */
export function binOf(pkg: string): string {
  const manifest = createRequire(join(process.cwd(), 'noop.js')).resolve(`${pkg}/package.json`);
  const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: string | Record<string, string> };
  const script = typeof bin === 'string' ? bin : Object.values(bin ?? {})[0];
  if (!script) throw new Error(`${pkg} has no bin`);
  return join(dirname(manifest), script);
}

export interface EngineProcess {
  /** Worker WebSocket URL, e.g. ws://127.0.0.1:40123 */
  url: string;
  port: number;
  proc: ChildProc;
}

/** The dev engine's own bin on a free port (its data in `dataDir`, else in memory); resolves once it listens. */
export async function spawnDevEngine(
  options: { dataDir?: string; logLevel?: string; output?: SpawnNodeOptions['output'] } = {},
): Promise<EngineProcess> {
  const port = await freePort();
  const store = options.dataDir ? ['--data-dir', options.dataDir] : ['--memory'];
  const proc = spawnNode(
    'engine',
    binOf('@iii-harness/dev-engine'),
    ['--port', String(port), '--http-port', '0', ...store, '--log-level', options.logLevel ?? 'warn'],
    { output: options.output },
  );
  await waitForPort(port, proc);
  return { url: `ws://127.0.0.1:${port}`, port, proc };
}
