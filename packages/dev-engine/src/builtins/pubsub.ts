/**
 * `iii-pubsub` (local adapter): `publish {topic, data}` and the `subscribe {topic}` trigger.
 * Subscribers receive `data` only (no trigger metadata) and run concurrently, unordered.
 */
import { type EngineApi, EngineError, type TriggerBinding } from '../engine-api.js';
import { configString } from './conditions.js';
import { objectInput, optionalString } from './input.js';

export function installPubSub(api: EngineApi): void {
  const byTopic = new Map<string, Map<string, TriggerBinding>>();

  api.registerFunction({
    id: 'publish',
    description: 'Publish a message to a topic',
    worker: 'iii-pubsub',
    handler: (raw) => {
      const input = objectInput('publish', raw);
      const topic = optionalString('publish', input, 'topic') ?? '';
      if (topic === '') throw new EngineError('topic_not_set', 'Topic is not set');
      const data = input.data === undefined ? null : input.data;
      for (const t of byTopic.get(topic)?.values() ?? []) {
        api
          .call(t.function_id, data)
          .catch((error) =>
            api.logger.error({ err: error, function_id: t.function_id, topic }, 'Error invoking subscriber'),
          );
      }
      return undefined;
    },
  });

  api.registerTriggerType('subscribe', 'Subscribe to a topic', {
    worker: 'iii-pubsub',
    registerTrigger: (binding) => {
      const topic = configString(binding.config, 'topic');
      if (!topic) throw new Error('subscribe trigger config requires `topic`');
      let subs = byTopic.get(topic);
      if (!subs) {
        subs = new Map();
        byTopic.set(topic, subs);
      }
      subs.set(binding.id, binding);
    },
    unregisterTrigger: (binding) => {
      for (const [topic, subs] of byTopic) if (subs.delete(binding.id) && subs.size === 0) byTopic.delete(topic);
    },
  });
}
