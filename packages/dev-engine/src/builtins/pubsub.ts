/**
 * `iii-pubsub`: `publish {topic, data}` and the `subscribe {topic}` trigger. Subscribers receive
 * `data` only (no trigger metadata) and run concurrently, unordered. The transport is the `local`
 * adapter (in-process) or the `redis` adapter (`redis/pubsub.ts`): a message published on any
 * engine sharing the Redis reaches the subscribers on every engine, each engine subscribing to a
 * topic's channel while it has a subscriber for it.
 */
import { type EngineApi, EngineError, type TriggerBinding } from '../engine-api.js';
import { configString } from './conditions.js';
import { objectInput, optionalString } from './input.js';

/** Carries published messages to the engines' subscribers. */
export interface PubSubTransport {
  publish(topic: string, data: unknown): void | Promise<void>;
  /** This engine has a subscriber for `topic` now: deliver its messages to `deliver`. */
  subscribe(topic: string, deliver: (data: unknown) => void): void | Promise<void>;
  /** This engine's last subscriber for `topic` is gone. */
  unsubscribe(topic: string): void | Promise<void>;
}

/** In-process: a message reaches this engine's subscribers only. */
export function localPubSub(): PubSubTransport {
  const receivers = new Map<string, (data: unknown) => void>();
  return {
    publish: (topic, data) => receivers.get(topic)?.(data),
    subscribe: (topic, deliver) => void receivers.set(topic, deliver),
    unsubscribe: (topic) => void receivers.delete(topic),
  };
}

export function installPubSub(api: EngineApi, transport: PubSubTransport = localPubSub()): void {
  const byTopic = new Map<string, Map<string, TriggerBinding>>();

  const deliver = (topic: string, data: unknown) => {
    for (const t of byTopic.get(topic)?.values() ?? []) {
      api
        .call(t.function_id, data)
        .catch((error) =>
          api.logger.error({ err: error, function_id: t.function_id, topic }, 'Error invoking subscriber'),
        );
    }
  };

  api.registerFunction({
    id: 'publish',
    description: 'Publish a message to a topic',
    worker: 'iii-pubsub',
    handler: async (raw) => {
      const input = objectInput('publish', raw);
      const topic = optionalString('publish', input, 'topic') ?? '';
      if (topic === '') throw new EngineError('topic_not_set', 'Topic is not set');
      const data = input.data === undefined ? null : input.data;
      try {
        await transport.publish(topic, data);
      } catch (error) {
        // As the engine: a transport failure is logged, the publisher is not failed.
        api.logger.error({ err: error, topic }, 'Failed to publish event');
      }
      return undefined;
    },
  });

  api.registerTriggerType('subscribe', 'Subscribe to a topic', {
    worker: 'iii-pubsub',
    registerTrigger: async (binding) => {
      const topic = configString(binding.config, 'topic');
      if (!topic) throw new Error('subscribe trigger config requires `topic`');
      const subs = byTopic.get(topic);
      if (subs) {
        subs.set(binding.id, binding);
        return;
      }
      byTopic.set(topic, new Map([[binding.id, binding]]));
      await transport.subscribe(topic, (data) => deliver(topic, data));
    },
    unregisterTrigger: async (binding) => {
      for (const [topic, subs] of byTopic) {
        if (!subs.delete(binding.id) || subs.size > 0) continue;
        byTopic.delete(topic);
        await transport.unsubscribe(topic);
      }
    },
  });
}
