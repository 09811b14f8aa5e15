/**
 * The in-process `queue` worker: named queues behind `TriggerAction.Enqueue`
 * (`engine::queue::enqueue`, `queue::define`), durable topics (`iii::durable::publish`,
 * trigger type `durable:subscriber`), dead letters and stats. See README.md in this folder.
 */
import type { EngineApi } from '../engine-api.js';
import { parseQueueModuleConfig } from './config.js';
import { registerDeadLetterFunctions } from './dead-letters.js';
import { QueueDefinitions } from './definitions.js';
import { Dispatcher } from './dispatcher.js';
import { DurableTopics } from './durable-topics.js';
import { registerEnqueueFunctions } from './enqueue.js';
import type { QueueModule } from './module.js';
import { registerTopicFunctions } from './publish.js';
import { registerStatsFunctions } from './stats.js';
import { QueueStore } from './store.js';

export { QueueConfigError } from './config.js';

export interface QueueModuleConfig {
  queue_configs?: Record<string, unknown>;
  adapter?: unknown;
}

/**
 * Installs the queue module on the engine. `config` is the `config:` block of the `iii-queue`
 * entry in config.yaml (or `{}`); a bad block throws QueueConfigError naming the bad key.
 * Jobs left unacknowledged by a previous run are loaded and delivered again.
 */
export function installQueues(engine: EngineApi, config: QueueModuleConfig = {}): void {
  const settings = parseQueueModuleConfig(config);
  const store = new QueueStore(engine.db);
  const dispatcher = new Dispatcher(engine, store);
  const definitions = new QueueDefinitions(store, dispatcher);
  const topics = new DurableTopics(engine, store, dispatcher);
  const mod: QueueModule = { engine, store, dispatcher, definitions, topics };

  definitions.load(settings.queues, engine.logger);
  topics.load();
  const pending = store.loadJobs();
  for (const job of pending) dispatcher.submit(job);
  if (pending.length > 0) engine.logger.info({ jobs: pending.length }, 'queue: redelivering unacknowledged jobs');

  registerEnqueueFunctions(mod);
  registerTopicFunctions(mod);
  registerDeadLetterFunctions(mod);
  registerStatsFunctions(mod);

  const unsubscribe = engine.onFunctionsChanged(() => dispatcher.onFunctionsChanged());
  engine.onClose(() => {
    unsubscribe();
    dispatcher.close();
  });
}
