/**
 * Named queues: `default`, the `queue_configs` of config.yaml, and those declared at run time with
 * `queue::define` (persisted, so a restarted engine can deliver their jobs before the declaring
 * worker has reconnected).
 */
import type { Logger } from 'pino';
import { DEFAULT_QUEUE_SETTINGS, parseQueueSettings, type QueueSettings, sameSettings } from './config.js';
import type { Dispatcher } from './dispatcher.js';
import type { LaneSettings } from './lane.js';
import type { QueueStore } from './store.js';
import { queueLaneKey } from './types.js';

export class QueueDefinitions {
  readonly #queues = new Map<string, QueueSettings>();
  /** Names whose current definition is in `queue_definitions`. */
  readonly #persisted = new Set<string>();
  readonly #store: QueueStore;
  readonly #dispatcher: Dispatcher;

  constructor(store: QueueStore, dispatcher: Dispatcher) {
    this.#store = store;
    this.#dispatcher = dispatcher;
  }

  /**
   * Order of precedence: config.yaml > persisted `queue::define` > the built-in `default`.
   * config.yaml wins because it is the operator's file; a worker re-defines its queue on start.
   */
  load(configured: Record<string, QueueSettings>, logger: Logger): void {
    this.#apply('default', { ...DEFAULT_QUEUE_SETTINGS });
    for (const [name, raw] of this.#store.loadDefinitions()) {
      if (configured[name]) continue;
      try {
        this.#apply(name, parseQueueSettings(raw, `persisted queue '${name}'`));
        this.#persisted.add(name);
      } catch (error) {
        logger.warn({ queue: name, err: (error as Error).message }, 'ignoring invalid persisted queue definition');
      }
    }
    for (const [name, settings] of Object.entries(configured)) this.#apply(name, settings);
  }

  get(name: string): QueueSettings | undefined {
    return this.#queues.get(name);
  }

  names(): string[] {
    return [...this.#queues.keys()];
  }

  /** `queue::define`: returns whether the definition changed. Persisted before it takes effect. */
  define(name: string, settings: QueueSettings): boolean {
    const current = this.#queues.get(name);
    const changed = !current || !sameSettings(current, settings);
    if (changed || !this.#persisted.has(name)) {
      this.#store.saveDefinition(name, settings);
      this.#persisted.add(name);
    }
    if (changed) this.#apply(name, settings);
    return changed;
  }

  #apply(name: string, settings: QueueSettings): void {
    this.#queues.set(name, settings);
    this.#dispatcher.defineLane(queueLaneKey(name), { kind: 'queue', name }, toLaneSettings(settings));
  }
}

export function toLaneSettings(settings: QueueSettings): LaneSettings {
  return {
    fifo: settings.type === 'fifo',
    concurrency: settings.concurrency,
    maxRetries: settings.max_retries,
    backoffMs: settings.backoff_ms,
    timeoutMs: settings.timeout_ms,
  };
}
