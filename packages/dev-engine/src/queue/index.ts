/**
 * The in-process `queue` worker: named queues behind `TriggerAction.Enqueue`
 * (`engine::queue::enqueue`, `queue::define`), durable topics (`iii::durable::publish`,
 * trigger type `durable:subscriber`), dead letters and stats. See README.md in this folder.
 */
import type { EngineApi } from '../engine-api.js';
import { parseQueueModuleConfig, type QueueAdapterSettings } from './config.js';
import { registerDeadLetterFunctions } from './dead-letters.js';
import { QueueDefinitions } from './definitions.js';
import { Dispatcher } from './dispatcher.js';
import { DurableTopics } from './durable-topics.js';
import { registerEnqueueFunctions } from './enqueue.js';
import type { QueueModule } from './module.js';
import { registerTopicFunctions } from './publish.js';
import { SqliteTransport } from './sqlite-transport.js';
import { registerStatsFunctions } from './stats.js';
import { QueueStore } from './store.js';
import type { QueueTransport } from './transport.js';

export interface QueueModuleConfig {
  queue_configs?: Record<string, unknown>;
  adapter?: unknown;
}

/**
 * Installs the queue module on the engine. `config` is the `config:` block of the `iii-queue`
 * entry in config.yaml (or `{}`); a bad block throws QueueConfigError naming the bad key.
 * Jobs left unacknowledged by a previous run are loaded and delivered again.
 */
export async function installQueues(engine: EngineApi, config: QueueModuleConfig = {}): Promise<void> {
  const settings = parseQueueModuleConfig(config);
  const store = new QueueStore(engine.db);
  let dispatcher: Dispatcher | undefined;
  const transport = await openTransport(settings.adapter, store, engine, () => {
    const dropped = dispatcher?.dropWaiting() ?? 0;
    if (dropped > 0) engine.logger.warn({ jobs: dropped }, 'queue: jobs handed back to the broker');
  });
  dispatcher = new Dispatcher(engine, transport);
  const definitions = new QueueDefinitions(store, dispatcher, transport);
  const topics = new DurableTopics(engine, store, dispatcher, transport);
  const mod: QueueModule = { engine, store, transport, dispatcher, definitions, topics };

  const ready = dispatcher;
  await transport.start((job) => ready.submit(job));
  try {
    await definitions.load(settings.queues, engine.logger);
    await topics.load();
  } catch (error) {
    await transport.close();
    throw error;
  }

  registerEnqueueFunctions(mod);
  registerTopicFunctions(mod);
  registerDeadLetterFunctions(mod);
  registerStatsFunctions(mod);

  const unsubscribe = engine.onFunctionsChanged(() => dispatcher.onFunctionsChanged());
  engine.onClose(async () => {
    unsubscribe();
    ready.close();
    await transport.close();
  });
}

/** SQLite (`builtin`), or RabbitMQ (loaded only then), connected. */
async function openTransport(
  adapter: QueueAdapterSettings,
  store: QueueStore,
  engine: EngineApi,
  onLost: () => void,
): Promise<QueueTransport> {
  if (adapter.name === 'builtin') return new SqliteTransport(store, engine.logger);
  const { AmqpTransport } = await import('./amqp-transport.js');
  return AmqpTransport.connect(adapter.amqp_url, engine.logger, onLost);
}
