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
import type { QueueTransport } from './transport.js';
import { queueLaneKey } from './types.js';

export class QueueDefinitions {
  readonly #queues = new Map<string, QueueSettings>();
  /** Names whose current definition is in `queue_definitions`. */
  readonly #persisted = new Set<string>();
  readonly #store: QueueStore;
  readonly #dispatcher: Dispatcher;
  readonly #transport: QueueTransport;

  constructor(store: QueueStore, dispatcher: Dispatcher, transport: QueueTransport) {
    this.#store = store;
    this.#dispatcher = dispatcher;
    this.#transport = transport;
  }

  /**
   * Order of precedence: config.yaml > persisted `queue::define` > the built-in `default`.
   * config.yaml wins because it is the operator's file; a worker re-defines its queue on start.
   */
  async load(configured: Record<string, QueueSettings>, logger: Logger): Promise<void> {
    await this.#apply('default', { ...DEFAULT_QUEUE_SETTINGS });
    for (const [name, raw] of this.#store.loadDefinitions()) {
      if (configured[name]) continue;
      let settings: QueueSettings;
      try {
        settings = parseQueueSettings(raw, `persisted queue '${name}'`);
      } catch (error) {
        logger.warn({ queue: name, err: (error as Error).message }, 'ignoring invalid persisted queue definition');
        continue;
      }
      await this.#apply(name, settings);
      this.#persisted.add(name);
    }
    for (const [name, settings] of Object.entries(configured)) await this.#apply(name, settings);
  }

  get(name: string): QueueSettings | undefined {
    return this.#queues.get(name);
  }

  names(): string[] {
    return [...this.#queues.keys()];
  }

  /**
   * `queue::define`: resolves with whether the definition changed, once it is persisted and its
   * consumer is ready (with RabbitMQ: the queue declared and consumed).
   */
  async define(name: string, settings: QueueSettings): Promise<boolean> {
    const current = this.#queues.get(name);
    const changed = !current || !sameSettings(current, settings);
    if (changed || !this.#persisted.has(name)) {
      this.#store.saveDefinition(name, settings);
      this.#persisted.add(name);
    }
    if (changed) await this.#apply(name, settings);
    return changed;
  }

  async #apply(name: string, settings: QueueSettings): Promise<void> {
    this.#queues.set(name, settings);
    const key = queueLaneKey(name);
    const meta = { kind: 'queue' as const, name };
    const lane = toLaneSettings(settings);
    this.#dispatcher.defineLane(key, meta, lane);
    await this.#transport.openLane(key, meta, lane);
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
