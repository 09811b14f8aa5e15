import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

const PACKAGES = resolve(__dirname, '../../..');

/** The built process entry of a workspace package (`npm run build` first; `nx` does it for this target). */
export const mainOf = (pkg: string) => join(PACKAGES, pkg, 'dist', 'main.js');

/** A real child process we can SIGKILL. Its output is kept for failure messages. */
export class Proc {
  readonly output: string[] = [];
  private exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk) => this.output.push(String(chunk)));
    this.exited = new Promise((done) => child.once('exit', () => done()));
  }

  /** kill -9, and wait until the OS has reaped it. */
  async kill9(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 3_000))]);
    await this.kill9();
  }

  tail(lines = 20): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }
}

export function spawnNode(name: string, script: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, OTEL_ENABLED: 'false', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Proc(name, child);
}

/** A port free right now (bound and released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** The dev engine as its own process, on a data dir that outlives it. */
export function spawnEngine(port: number, dataDir: string): Proc {
  return spawnNode('engine', mainOf('dev-engine'), [
    '--port',
    String(port),
    '--http-port',
    '0',
    '--data-dir',
    dataDir,
    '--log-level',
    'warn',
  ]);
}

/** A worker package's bin against `url`, with an optional YAML config file. */
export function spawnWorker(pkg: string, url: string, configFile?: string): Proc {
  return spawnNode(pkg, mainOf(pkg), ['--url', url, ...(configFile ? ['--config', configFile] : [])]);
}

export const SCRIPTED_PROVIDER_MAIN = join(__dirname, 'scripted-provider-main.mjs');
