/**
 * Durable topics: `iii::durable::publish` fans every message out to every function subscribed
 * through a `durable:subscriber` trigger. Each subscribed function has its own lane (own retries,
 * own dead letters); replicas registering the same function share that lane and compete.
 *
 * Subscriptions are durable: they are persisted and outlive the subscriber's connection, so a
 * message published while the subscriber's worker is restarting (or before it reconnects to a
 * restarted engine) is kept for it. A subscription ends when its last trigger is unregistered
 * while its function is still registered, i.e. a deliberate `trigger.unregister()`; on a
 * disconnect the engine removes the worker's functions before its triggers, so it survives.
 */
import { randomUUID } from 'node:crypto';
import type { EngineApi, TriggerBinding, TriggerTypeProvider } from '../engine-api.js';
import { parseSubscriberConfig, type SubscriberSettings } from './config.js';
import type { Dispatcher } from './dispatcher.js';
import type { LaneMeta, LaneSettings } from './lane.js';
import type { QueueStore, StoredSubscription } from './store.js';
import type { QueueTransport } from './transport.js';
import { topicLaneKey } from './types.js';

interface Subscription extends StoredSubscription {
  /** Live trigger ids bound to this (topic, function) pair. */
  bindings: Set<string>;
}

export class DurableTopics {
  readonly #engine: EngineApi;
  readonly #store: QueueStore;
  readonly #dispatcher: Dispatcher;
  readonly #transport: QueueTransport;
  /** topic → function id → subscription */
  readonly #topics = new Map<string, Map<string, Subscription>>();
  /** trigger id → the subscription it feeds */
  readonly #bindings = new Map<string, Subscription>();

  constructor(engine: EngineApi, store: QueueStore, dispatcher: Dispatcher, transport: QueueTransport) {
    this.#engine = engine;
    this.#store = store;
    this.#dispatcher = dispatcher;
    this.#transport = transport;
  }

  /** Restores the subscriptions of the previous run (before their workers reconnect). */
  async load(): Promise<void> {
    for (const stored of this.#store.loadSubscriptions()) await this.#install({ ...stored, bindings: new Set() });
  }

  readonly provider: TriggerTypeProvider = {
    registerTrigger: (binding) => this.#subscribe(binding),
    unregisterTrigger: (binding) => this.#unsubscribe(binding),
  };

  /** One durable message per subscriber; resolves once they are stored. */
  publish(topic: string, data: unknown): Promise<void> {
    const subscribers = [...(this.#topics.get(topic)?.values() ?? [])].map((sub) => sub.functionId);
    return this.#transport.publish(topic, randomUUID(), data, subscribers);
  }

  /** Functions subscribed to `topic` (for dead-letter and stats lookups). */
  subscribers(topic: string): string[] {
    return [...(this.#topics.get(topic)?.keys() ?? [])];
  }

  topics(): string[] {
    return [...this.#topics.keys()];
  }

  /** Subscribed functions of `topic` (persisted subscriptions, connected or not). */
  subscriberCount(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  /** Live `durable:subscriber` triggers on `topic`. */
  consumerCount(topic: string): number {
    let count = 0;
    for (const sub of this.#topics.get(topic)?.values() ?? []) count += sub.bindings.size;
    return count;
  }

  subscriberSettings(topic: string, functionId: string): SubscriberSettings | undefined {
    return this.#topics.get(topic)?.get(functionId)?.settings;
  }

  async #subscribe(binding: TriggerBinding): Promise<void> {
    const settings = parseSubscriberConfig(binding.config);
    // A re-registration with the same trigger id may point somewhere else now.
    this.#unbind(binding.id);
    const sub = this.#topics.get(settings.topic)?.get(binding.function_id) ?? {
      topic: settings.topic,
      functionId: binding.function_id,
      settings,
      bindings: new Set<string>(),
    };
    sub.settings = settings;
    if (binding.metadata === undefined) delete sub.metadata;
    else sub.metadata = binding.metadata;
    this.#store.saveSubscription(sub);
    // Counted as a consumer once its lane is open (with RabbitMQ: its queue bound to the topic, so
    // every message published from then on reaches it).
    await this.#install(sub);
    sub.bindings.add(binding.id);
    this.#bindings.set(binding.id, sub);
  }

  async #unsubscribe(binding: TriggerBinding): Promise<void> {
    const sub = this.#unbind(binding.id);
    if (!sub || sub.bindings.size > 0) return;
    if (!this.#engine.hasFunction(sub.functionId)) return; // a disconnect: keep it (durable)
    this.#topics.get(sub.topic)?.delete(sub.functionId);
    if (this.#topics.get(sub.topic)?.size === 0) this.#topics.delete(sub.topic);
    this.#store.deleteSubscription(sub.topic, sub.functionId);
    await this.#transport.closeLane(topicLaneKey(sub.topic, sub.functionId), laneMeta(sub));
  }

  #unbind(triggerId: string): Subscription | undefined {
    const sub = this.#bindings.get(triggerId);
    if (!sub) return undefined;
    this.#bindings.delete(triggerId);
    sub.bindings.delete(triggerId);
    return sub;
  }

  async #install(sub: Subscription): Promise<void> {
    let subscribers = this.#topics.get(sub.topic);
    if (!subscribers) {
      subscribers = new Map();
      this.#topics.set(sub.topic, subscribers);
    }
    subscribers.set(sub.functionId, sub);
    const key = topicLaneKey(sub.topic, sub.functionId);
    const meta = laneMeta(sub);
    const settings = subscriberLaneSettings(sub.settings);
    this.#dispatcher.defineLane(key, meta, settings);
    await this.#transport.openLane(key, meta, settings);
  }
}

function laneMeta(sub: Subscription): LaneMeta {
  const meta: LaneMeta = { kind: 'topic', name: sub.topic, subscriber: sub.functionId };
  if (sub.settings.condition_function_id) meta.conditionFunctionId = sub.settings.condition_function_id;
  if (sub.metadata !== undefined) meta.metadata = sub.metadata;
  return meta;
}

/** iii's subscriber `fifo` is strictly serial (no groups); `concurrent` runs up to `concurrency`. */
export function subscriberLaneSettings(settings: SubscriberSettings): LaneSettings {
  return {
    fifo: settings.fifo,
    concurrency: settings.fifo ? 1 : settings.concurrency,
    maxRetries: settings.max_retries,
    backoffMs: settings.backoff_ms,
    timeoutMs: settings.timeout_ms,
  };
}
