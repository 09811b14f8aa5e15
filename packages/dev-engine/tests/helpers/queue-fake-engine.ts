/**
 * A minimal in-memory EngineApi for unit tests of the queue module: builtins and "worker"
 * functions in one map, trigger types, change listeners and close hooks. No WebSockets.
 */
import Database from 'better-sqlite3';
import pino from 'pino';
import {
  type BuiltinFunction,
  type CallOptions,
  type EngineApi,
  EngineError,
  type TriggerBinding,
  type TriggerTypeProvider,
} from '../../src/engine-api.js';

type Handler = (data: any, options?: CallOptions) => unknown;

export class FakeEngine implements EngineApi {
  readonly logger = pino({ level: 'silent' });
  readonly db: Database.Database;
  readonly calls: Array<{ functionId: string; data: unknown; options?: CallOptions }> = [];
  readonly #functions = new Map<string, Handler>();
  readonly #triggerTypes = new Map<string, TriggerTypeProvider>();
  readonly #listeners = new Set<() => void>();
  readonly #closeHooks: Array<() => Promise<void> | void> = [];
  readonly #pending = new Set<(error: EngineError) => void>();

  constructor(dbPath = ':memory:') {
    this.db = new Database(dbPath);
    this.db.pragma('journal_mode = WAL');
  }

  registerFunction(fn: BuiltinFunction): void {
    this.#functions.set(fn.id, (data) => fn.handler(data, {}));
    this.#changed();
  }

  /** A function as a connected worker would provide it. */
  provide(functionId: string, handler: Handler): void {
    this.#functions.set(functionId, handler);
    this.#changed();
  }

  remove(functionId: string): void {
    this.#functions.delete(functionId);
    this.#changed();
  }

  registerTriggerType(id: string, _description: string, provider: TriggerTypeProvider): void {
    this.#triggerTypes.set(id, provider);
  }

  async registerTrigger(binding: TriggerBinding): Promise<void> {
    await this.#triggerTypes.get(binding.trigger_type)!.registerTrigger(binding);
  }

  async unregisterTrigger(binding: TriggerBinding): Promise<void> {
    await this.#triggerTypes.get(binding.trigger_type)!.unregisterTrigger(binding);
  }

  async call(functionId: string, data: unknown, options?: CallOptions): Promise<unknown> {
    this.calls.push(options ? { functionId, data, options } : { functionId, data });
    const handler = this.#functions.get(functionId);
    if (!handler) throw new EngineError('function_not_found', `Function ${functionId} not found`);
    let stop!: (error: EngineError) => void;
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    this.#pending.add(stop);
    try {
      return await Promise.race([handler(data, options), stopped]);
    } catch (error) {
      if (error instanceof EngineError) throw error;
      throw new EngineError('invocation_failed', (error as Error).message);
    } finally {
      this.#pending.delete(stop);
    }
  }

  /** Like Router.close: fail every in-flight call first, let the failures settle, then close. */
  async shutdownLikeRouter(): Promise<void> {
    for (const stop of this.#pending) stop(new EngineError('invocation_stopped', 'Engine shutting down'));
    await new Promise((resolve) => setImmediate(resolve));
    await this.close();
  }

  hasFunction(functionId: string): boolean {
    return this.#functions.has(functionId);
  }

  onFunctionsChanged(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  onClose(hook: () => Promise<void> | void): void {
    this.#closeHooks.push(hook);
  }

  /** Runs close hooks in reverse order, then closes the database (unless `keepDb`). */
  async close(keepDb = false): Promise<void> {
    for (const hook of this.#closeHooks.reverse()) await hook();
    if (!keepDb) this.db.close();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns truthy or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(check: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}
