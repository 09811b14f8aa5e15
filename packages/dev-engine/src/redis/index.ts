/**
 * The `redis` adapters of a config, connected: loaded only when a config names one (so an engine
 * on SQLite never loads the Redis client).
 */
import type { Logger } from 'pino';
import type { CronLock } from '../builtins/cron.js';
import type { PubSubTransport } from '../builtins/pubsub.js';
import type { StreamEventSink } from '../builtins/stream.js';
import type { EngineConfig } from '../config.js';
import type { StateStorage, StreamStorage } from '../storage.js';
import { RedisConnections } from './connections.js';
import { redisCronLock } from './cron-lock.js';
import { redisPubSub } from './pubsub.js';
import { RedisStateStore, RedisStreamStore } from './stores.js';

export interface RedisAdapters {
  state?: StateStorage;
  stream?: StreamStorage;
  streamEvents?: StreamEventSink;
  pubsub?: PubSubTransport;
  cronLock?: CronLock;
  close(): Promise<void>;
}

/** The channel the real engine's stream adapter publishes every change on (for stream clients). */
const STREAM_EVENTS_CHANNEL = 'stream::events';

export async function connectRedisAdapters(config: EngineConfig, logger: Logger): Promise<RedisAdapters> {
  const connections = new RedisConnections(logger);
  const adapters: RedisAdapters = { close: () => connections.close() };
  try {
    if (config.state?.adapter)
      adapters.state = new RedisStateStore(await connections.commands(config.state.adapter.redis_url));
    if (config.stream?.adapter) {
      const redis = await connections.commands(config.stream.adapter.redis_url);
      adapters.stream = new RedisStreamStore(redis);
      adapters.streamEvents = (message) => {
        redis
          .publish(STREAM_EVENTS_CHANNEL, JSON.stringify(message))
          .catch((error: Error) => logger.error({ err: error.message }, 'Failed to emit stream event'));
      };
    }
    if (config.pubsub?.adapter) {
      const url = config.pubsub.adapter.redis_url;
      adapters.pubsub = redisPubSub(await connections.commands(url), await connections.subscriber(url), logger);
    }
    if (config.cron?.adapter)
      adapters.cronLock = redisCronLock(await connections.commands(config.cron.adapter.redis_url), logger);
  } catch (error) {
    await connections.close();
    throw error;
  }
  return adapters;
}
