/** `iii::durable::publish` and the `durable:subscriber` trigger type. */
import { EngineError } from '../engine-api.js';
import { asObject } from './input.js';
import type { QueueModule } from './module.js';

const PUBLISH = 'iii::durable::publish';

export function registerTopicFunctions(mod: QueueModule): void {
  mod.engine.registerFunction({
    id: PUBLISH,
    description: 'Publish a message to a durable topic (every subscriber gets it, with retries)',
    handler: async (raw: unknown) => {
      const input = asObject(raw, PUBLISH);
      const topic = input.topic ?? input.queue;
      if (typeof topic !== 'string' || !topic.trim()) throw new EngineError('topic_not_set', 'Topic is not set');
      await mod.topics.publish(topic.trim(), input.data ?? null);
      return null; // iii answers an explicit null
    },
  });
  mod.engine.registerTriggerType(
    'durable:subscriber',
    'Durable topic subscription: every message of the topic, with retries and a dead-letter queue',
    mod.topics.provider,
  );
}
