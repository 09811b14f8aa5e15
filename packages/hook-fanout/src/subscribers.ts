import type { Bus } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';

const asTopicConfig = (config: unknown) => (config ?? {}) as { topic?: unknown; queue?: unknown };

/** Functions subscribed to `topic` through `durable:subscriber` triggers, as the engine lists them. */
export async function subscribersOf(bus: Bus, topic: string): Promise<string[]> {
  const { registered_triggers } = await bus.call(contracts.engine.registeredTriggersList, {
    trigger_type: 'durable:subscriber',
  });
  const functions = registered_triggers
    .filter((t) => {
      const config = asTopicConfig(t.config);
      return (config.topic ?? config.queue) === topic;
    })
    .map((t) => t.function_id);
  return [...new Set(functions)].sort();
}
