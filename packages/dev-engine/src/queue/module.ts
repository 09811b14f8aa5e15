/** The pieces of the queue module that its function files share. */
import type { EngineApi } from '../engine-api.js';
import type { QueueDefinitions } from './definitions.js';
import type { Dispatcher } from './dispatcher.js';
import type { DurableTopics } from './durable-topics.js';
import type { QueueStore } from './store.js';

export interface QueueModule {
  engine: EngineApi;
  store: QueueStore;
  dispatcher: Dispatcher;
  definitions: QueueDefinitions;
  topics: DurableTopics;
}

/** iii reports its transport in listings; the in-process SQLite store stands in for `builtin`. */
export const BROKER_TYPE = 'builtin';
