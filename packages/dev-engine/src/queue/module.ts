/** The pieces of the queue module that its function files share. */
import type { EngineApi } from '../engine-api.js';
import type { QueueDefinitions } from './definitions.js';
import type { Dispatcher } from './dispatcher.js';
import type { DurableTopics } from './durable-topics.js';
import type { QueueStore } from './store.js';
import type { QueueTransport } from './transport.js';

export interface QueueModule {
  engine: EngineApi;
  /** Queue definitions and topic subscriptions (this engine's SQLite database). */
  store: QueueStore;
  /** Jobs and dead letters (SQLite or RabbitMQ). */
  transport: QueueTransport;
  dispatcher: Dispatcher;
  definitions: QueueDefinitions;
  topics: DurableTopics;
}
