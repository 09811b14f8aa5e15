import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { engineReachable } from '../connect.js';
import { CliError } from '../errors.js';
import { cliMain, DEMO_WORKER, ENGINE_PKG, resolveBin, type StackWorker } from './catalog.js';
import { lastLine, logFile, logsDir } from './logs.js';

export interface StackOptions {
  port: number;
  httpPort?: number;
  /** The web console's port when given on the command line (else its config's, else 3113). */
  consolePort?: number;
  dataDir: string;
  memory: boolean;
  config?: string;
  workers: StackWorker[];
  demo: boolean;
  logLevel: string;
}

export interface StackProcess {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running: boolean;
}

/** What `iii-harness dev` leaves in the data dir while it runs (for `status`, `logs` and a second `dev`). */
export interface StackFile {
  pid: number;
  url: string;
  started_at: number;
  processes: Array<{ name: string; pid: number; log: string }>;
}

const stackFilePath = (dataDir: string) => join(dataDir, 'stack.json');

export function readStackFile(dataDir: string): StackFile | undefined {
  try {
    return JSON.parse(readFileSync(stackFilePath(dataDir), 'utf8')) as StackFile;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a TCP port can be listened on (by the engine) right now. */
function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, host, () => server.close(() => done(true)));
  });
}

const CONSOLE_WORKER = 'console';
const DEFAULT_CONSOLE_PORT = 3113;

/** `console.port` in the worker config file, when it sets one. */
function consolePortInConfig(file: string | undefined): number | undefined {
  if (!file) return undefined;
  try {
    const port = (parseYaml(readFileSync(file, 'utf8')) as { console?: { port?: unknown } } | null)?.console?.port;
    return typeof port === 'number' ? port : undefined;
  } catch {
    return undefined; // the console reports a bad config itself
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The engine and the workers as child processes, each writing to its own log file. Starts them
 * in order (engine first), stops them in reverse, and reports a process that exits on its own.
 */
export class Stack {
  readonly processes: StackProcess[] = [];
  readonly url: string;
  private stopping = false;
  private exitListeners: Array<(proc: StackProcess, code: number | null, signal: NodeJS.Signals | null) => void> = [];

  constructor(readonly options: StackOptions) {
    this.url = `ws://127.0.0.1:${options.port}`;
    // The children have their own process group (Ctrl-C reaches only us), so nothing stops them
    // if we die without stopping them (a crash, a closed terminal): this last resort does.
    process.once('exit', () => {
      for (const p of this.processes) if (p.running) p.child.kill('SIGKILL');
    });
  }

  get dataDir(): string {
    return resolve(this.options.dataDir);
  }

  onExit(listener: (proc: StackProcess, code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.exitListeners.push(listener);
  }

  /** Refuse to start over a running stack or on a taken port, with the fix in the message. */
  async preflight(): Promise<void> {
    const earlier = readStackFile(this.dataDir);
    if (earlier && earlier.pid !== process.pid && isAlive(earlier.pid))
      throw new CliError(
        `an \`iii-harness dev\` is already running on this data dir (pid ${earlier.pid}, ${earlier.url}): stop it with Ctrl-C or \`kill ${earlier.pid}\``,
      );
    const ports = [
      ['--port', this.options.port],
      ['--http-port', this.options.httpPort ?? 3111],
    ] as const;
    for (const [flag, port] of ports)
      if (port !== 0 && !(await portFree(port)))
        throw new CliError(
          `port ${port} is taken (another engine or program is listening there): stop it, or choose another with ${flag}`,
        );
    const consolePort = this.consolePort();
    if (consolePort !== undefined && consolePort !== 0 && !(await portFree(consolePort)))
      throw new CliError(
        `port ${consolePort} of the web console is taken (another \`iii-harness dev\`, or another program): choose another with --console-port (0 = any free port), or leave the console out with --only`,
      );
    const engine = resolveBin(ENGINE_PKG);
    if ('missing' in engine) throw new CliError(engine.detail);
    for (const worker of this.options.workers) {
      const found = resolveBin(worker.pkg);
      if ('missing' in found) throw new CliError(found.detail);
    }
  }

  async startEngine(): Promise<StackProcess> {
    mkdirSync(logsDir(this.dataDir), { recursive: true });
    const engine = resolveBin(ENGINE_PKG) as { script: string };
    const args = [
      '--port',
      String(this.options.port),
      '--http-port',
      String(this.options.httpPort ?? 3111),
      '--log-level',
      this.options.logLevel,
      ...(this.options.memory ? ['--memory'] : ['--data-dir', this.dataDir]),
    ];
    const proc = this.spawn('engine', engine.script, args);
    const deadline = Date.now() + 30_000;
    while (!(await engineReachable(this.url, 500))) {
      if (!proc.running) throw new CliError(`the engine did not start: ${lastLine(proc.log) ?? 'see its log'}`);
      if (Date.now() > deadline) throw new CliError(`the engine did not start within 30 s (log: ${proc.log})`);
      await sleep(100);
    }
    return proc;
  }

  startWorkers(): StackProcess[] {
    const args = [
      '--url',
      this.url,
      '--log-level',
      this.options.logLevel,
      ...(this.options.config ? ['--config', resolve(this.options.config)] : []),
    ];
    const started = this.options.workers.map((worker) => {
      const { script } = resolveBin(worker.pkg) as { script: string };
      return this.spawn(worker.name, script, args);
    });
    if (this.options.demo) started.push(this.spawn(DEMO_WORKER.name, cliMain(), ['demo-provider', ...args]));
    this.writeStackFile();
    return started;
  }

  /** The console's port when it is started: the flag's, the environment's, its config's, else 3113. */
  private consolePort(): number | undefined {
    if (!this.options.workers.some((w) => w.name === CONSOLE_WORKER)) return undefined;
    const fromEnv = process.env.IIH_CONSOLE_PORT ? Number(process.env.IIH_CONSOLE_PORT) : undefined;
    return this.options.consolePort ?? fromEnv ?? consolePortInConfig(this.options.config) ?? DEFAULT_CONSOLE_PORT;
  }

  private spawn(name: string, script: string, args: string[]): StackProcess {
    const log = logFile(this.dataDir, name);
    const fd = openSync(log, 'a');
    // The flag wins over the config file (the console reads IIH_CONSOLE_PORT over its config).
    const port = name === CONSOLE_WORKER && this.options.consolePort !== undefined;
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        LOG_LEVEL: this.options.logLevel,
        ...(port ? { IIH_CONSOLE_PORT: String(this.options.consolePort) } : {}),
      },
      // Own process group: Ctrl-C reaches only `dev`, which stops workers before the engine.
      detached: true,
    });
    closeSync(fd);
    const proc: StackProcess = {
      name,
      child,
      log,
      running: true,
      exited: new Promise((done) =>
        child.once('exit', (code, signal) => {
          proc.running = false;
          if (!this.stopping) for (const listener of this.exitListeners) listener(proc, code, signal);
          done({ code, signal });
        }),
      ),
    };
    this.processes.push(proc);
    return proc;
  }

  private writeStackFile(): void {
    const file: StackFile = {
      pid: process.pid,
      url: this.url,
      started_at: Date.now(),
      processes: this.processes.map((p) => ({ name: p.name, pid: p.child.pid ?? -1, log: p.log })),
    };
    writeFileSync(stackFilePath(this.dataDir), `${JSON.stringify(file, null, 2)}\n`);
  }

  /** Workers first (newest first), the engine last; SIGKILL for whatever outlives the grace period. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const order = [...this.processes].reverse();
    const engine = order.filter((p) => p.name === 'engine');
    const workers = order.filter((p) => p.name !== 'engine');
    for (const group of [workers, engine]) {
      for (const p of group) if (p.running) p.child.kill('SIGTERM');
      await Promise.race([Promise.all(group.map((p) => p.exited)), sleep(graceMs)]);
      for (const p of group) if (p.running) p.child.kill('SIGKILL');
      await Promise.all(group.map((p) => p.exited));
    }
    const file = readStackFile(this.dataDir);
    if (file?.pid === process.pid) rmSync(stackFilePath(this.dataDir), { force: true });
  }
}
