/**
 * The `redis` adapter of `iii-pubsub`, as the real engine's: `publish` is a Redis PUBLISH of the
 * JSON data on the channel named by the topic; an engine subscribes to a topic's channel while it
 * has subscribers for it, so every engine on the Redis delivers every message to its own
 * subscribers (a message published before an engine subscribed is not delivered to it).
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { PubSubTransport } from '../builtins/pubsub.js';

export function redisPubSub(commands: Redis, subscriber: Redis, logger: Logger): PubSubTransport {
  const receivers = new Map<string, (data: unknown) => void>();
  subscriber.on('message', (channel: string, message: string) => {
    const deliver = receivers.get(channel);
    if (!deliver) return;
    let data: unknown;
    try {
      data = JSON.parse(message);
    } catch {
      logger.error({ topic: channel }, 'pubsub message on Redis is not JSON; dropped');
      return;
    }
    deliver(data);
  });
  return {
    async publish(topic, data) {
      await commands.publish(topic, JSON.stringify(data));
    },
    async subscribe(topic, deliver) {
      receivers.set(topic, deliver);
      await subscriber.subscribe(topic);
    },
    async unsubscribe(topic) {
      receivers.delete(topic);
      await subscriber.unsubscribe(topic);
    },
  };
}
