import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export { freePort } from '@iii-harness/testing';
/** The built CLI (the test target builds it first). */
export const CLI_MAIN = resolve(__dirname, '../../dist/main.js');

/** Keys in the environment would make providers usable; CI=true would make Ink print only final frames. */
const SCRUBBED = [
  'CI',
  'ANTHROPIC_API_KEY',
  'OPENAI_API_KEY',
  'MOONSHOT_API_KEY',
  'III_URL',
  'NO_COLOR',
  'FORCE_COLOR',
];

/** A private HOME (history, credentials) and a clean environment for every CLI process of a test. */
export function testEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SCRUBBED) delete env[name];
  return {
    ...env,
    HOME: home,
    IIH_CREDENTIALS_PATH: join(home, '.iii', 'credentials.json'),
    IIH_CLI_HISTORY: join(home, '.iii', 'cli-history'),
    OTEL_ENABLED: 'false',
    TERM: 'xterm-256color',
    ...extra,
  };
}

const made: string[] = [];
// Each test file removes the directories it made (after its own hooks have stopped its stacks).
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
});

export function tempDir(prefix = 'iih-cli-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion. */
export function cli(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string },
): Promise<CliResult> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [CLI_MAIN, ...args],
      { cwd: options.cwd, env: options.env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code =
          error && typeof (error as { code?: unknown }).code === 'number'
            ? (error as { code: number }).code
            : error
              ? 1
              : 0;
        done({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

/** `iii-harness dev` as a child process, in `dir`, on its own port. */
export class DevStack {
  readonly output: string[] = [];
  child?: ChildProcess;
  readonly url: string;

  constructor(
    readonly dir: string,
    readonly port: number,
    readonly env: NodeJS.ProcessEnv,
    readonly args: string[] = [],
  ) {
    this.url = `ws://127.0.0.1:${port}`;
  }

  get dataDir(): string {
    return join(this.dir, '.iii-data');
  }

  /** Start and wait for "Ready." (the status table printed). */
  async start(timeoutMs = 120_000): Promise<string> {
    this.output.length = 0;
    const child = spawn(
      process.execPath,
      [CLI_MAIN, 'dev', '--port', String(this.port), '--http-port', '0', ...this.args],
      { cwd: this.dir, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk) => this.output.push(String(chunk)));
    await eventually(
      () => {
        const text = this.output.join('');
        if (child.exitCode !== null) throw new Error(`dev exited early (${child.exitCode}):\n${text}`);
        if (!text.includes('Ready.')) throw new Error(`dev not ready yet:\n${text}`);
      },
      timeoutMs,
      200,
    );
    return this.output.join('');
  }

  /** Ctrl-C, as a person would: everything stops cleanly. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    child.kill('SIGINT');
    return exited;
  }

  /** SIGKILL `dev` and every process it started (their pids are in the stack file). */
  async killEverything(): Promise<void> {
    const file = JSON.parse(readFileSync(join(this.dataDir, 'stack.json'), 'utf8')) as {
      pid: number;
      processes: Array<{ pid: number }>;
    };
    for (const pid of [file.pid, ...file.processes.map((p) => p.pid)])
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    await eventually(() => {
      for (const pid of [file.pid, ...file.processes.map((p) => p.pid)])
        try {
          process.kill(pid, 0);
          throw new Error(`pid ${pid} still alive`);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
        }
    }, 15_000);
  }
}

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** No line of the output is a stack frame. */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+\(.+:\d+:\d+\)$/m.test(text) || /^\s+at .+:\d+:\d+$/m.test(text);
}
