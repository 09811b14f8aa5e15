import type { Bus } from '@iii-harness/runtime';

interface RegisteredTrigger {
  trigger_type: string;
  function_id: string;
  config?: { topic?: unknown; queue?: unknown };
}

/** Functions subscribed to `topic` through `durable:subscriber` triggers, as the engine lists them. */
export async function subscribersOf(bus: Bus, topic: string): Promise<string[]> {
  const { registered_triggers } = await bus.call<{ registered_triggers: RegisteredTrigger[] }>(
    'engine::registered-triggers::list',
    { trigger_type: 'durable:subscriber' },
  );
  const functions = registered_triggers
    .filter((t) => (t.config?.topic ?? t.config?.queue) === topic)
    .map((t) => t.function_id);
  return [...new Set(functions)].sort();
}
