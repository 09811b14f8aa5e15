import { type ChildProcess, fork, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const PACKAGES = resolve(__dirname, '../..');
// By place in the workspace (built by tests/global-setup.cjs): a worker never imports another.
export const BUDGET_MAIN = join(PACKAGES, 'llm-budget', 'dist', 'main.js');
export const CATALOG_MAIN = join(PACKAGES, 'models-catalog', 'dist', 'main.js');

/** A child process whose output is kept for failure messages. */
export class Child {
  readonly output: string[] = [];
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk) => this.output.push(String(chunk)));
    this.exited = new Promise((done) => child.once('exit', () => done()));
  }

  get alive() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill9(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.alive) this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, 3_000)))]);
    clearTimeout(timer);
    await this.kill9();
  }

  tail(lines = 20): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }

  /** The next IPC message of `type` (rejects if the child exits first). */
  next<T = any>(type: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { type: string; error?: string }) => {
        if (message.type === 'failed') return done(() => reject(new Error(message.error)));
        if (message.type === type) done(() => resolve(message as T));
      };
      const onExit = () => done(() => reject(new Error(`child exited before "${type}":\n${this.tail()}`)));
      const done = (settle: () => void) => {
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        settle();
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }
}

const childEnv = { ...process.env, OTEL_ENABLED: 'false', LOG_LEVEL: 'warn' };

/** The driver fixture: a full llm-budget worker that also runs reservers on command. */
export function forkBudgetProcess(url: string, config: object): Child {
  return new Child(
    fork(join(__dirname, 'fixtures', 'budget-process.mjs'), [url, JSON.stringify(config)], {
      env: childEnv,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
}

/** The worker's own bin (`iii-llm-budget`), as production runs it. */
export function spawnBudgetWorker(url: string, configFile: string): Child {
  return new Child(
    spawn(process.execPath, [BUDGET_MAIN, '--url', url, '--config', configFile], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** models-catalog, the real worker, as its own process. */
export function spawnCatalog(url: string): Child {
  return new Child(
    spawn(process.execPath, [CATALOG_MAIN, '--url', url], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}
