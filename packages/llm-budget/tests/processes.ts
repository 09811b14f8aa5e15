import { fork } from 'node:child_process';
import { join, resolve } from 'node:path';
import { ChildProc, spawnNode } from '@iii-harness/testing';

const PACKAGES = resolve(__dirname, '../..');
// By place in the workspace (built by tests/global-setup.cjs): a worker never imports another.
export const BUDGET_MAIN = join(PACKAGES, 'llm-budget', 'dist', 'main.js');
export const CATALOG_MAIN = join(PACKAGES, 'models-catalog', 'dist', 'main.js');

/** A child process that also speaks IPC (the driver fixture). */
export class Child extends ChildProc {
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

/** The driver fixture: a full llm-budget worker that also runs reservers on command. */
export function forkBudgetProcess(url: string, config: object): Child {
  return new Child(
    'budget driver',
    fork(join(__dirname, 'fixtures', 'budget-process.mjs'), [url, JSON.stringify(config)], {
      env: { ...process.env, OTEL_ENABLED: 'false', LOG_LEVEL: 'warn' },
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    }),
  );
}

/** The worker's own bin (`iii-llm-budget`), as production runs it. */
export const spawnBudgetWorker = (url: string, configFile: string): ChildProc =>
  spawnNode('llm-budget', BUDGET_MAIN, ['--url', url, '--config', configFile]);

/** models-catalog, the real worker, as its own process. */
export const spawnCatalog = (url: string): ChildProc => spawnNode('models-catalog', CATALOG_MAIN, ['--url', url]);
