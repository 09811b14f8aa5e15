/** `engine::queue::enqueue` (the `TriggerAction.Enqueue` provider) and `queue::define`. */
import { randomUUID } from 'node:crypto';
import { EngineError } from '../engine-api.js';
import { parseQueueSettings, QueueConfigError, type QueueSettings } from './config.js';
import { asObject, requireQueueName, requireString } from './input.js';
import type { QueueModule } from './module.js';

const ENQUEUE = 'engine::queue::enqueue';
const DEFINE = 'queue::define';

export function registerEnqueueFunctions(mod: QueueModule): void {
  mod.engine.registerFunction({
    id: ENQUEUE,
    description: 'Persist a job on a named queue (provider of TriggerAction.Enqueue)',
    handler: (input: unknown) => enqueue(mod, input),
  });
  mod.engine.registerFunction({
    id: DEFINE,
    description: 'Declare (or update) a named queue; idempotent and persisted',
    handler: (input: unknown) => define(mod, input),
  });
}

/** Commits the job before answering, so an acknowledged enqueue survives a crash. */
async function enqueue(mod: QueueModule, raw: unknown): Promise<{ messageReceiptId: string }> {
  const input = asObject(raw, ENQUEUE, 'enqueue_error');
  const queue = requireString(input, 'queue', ENQUEUE, 'enqueue_error');
  const functionId = requireString(input, 'function_id', ENQUEUE, 'enqueue_error');
  const settings = mod.definitions.get(queue);
  if (!settings) throw new EngineError('enqueue_error', `Queue '${queue}' not found`);
  const receipt = input.messageReceiptId;
  const messageId = typeof receipt === 'string' && receipt ? receipt : randomUUID();
  const now = Date.now();
  await mod.transport.enqueue({
    kind: 'queue',
    queue,
    messageId,
    functionId,
    data: input.data,
    groupKey: settings.type === 'fifo' ? groupKeyOf(input.data, settings, queue) : null,
    attempts: 0,
    availableAt: now,
    enqueuedAt: now,
    ...(typeof input.traceparent === 'string' && { traceparent: input.traceparent }),
    ...(typeof input.baggage === 'string' && { baggage: input.baggage }),
  });
  return { messageReceiptId: messageId };
}

/** A FIFO job's ordering group: `data[message_group_field]`, which must be present and non-null. */
function groupKeyOf(data: unknown, settings: QueueSettings, queue: string): string {
  const field = settings.message_group_field!;
  const value = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[field] : undefined;
  if (value === undefined || value === null) {
    throw new EngineError(
      'enqueue_error',
      `Queue '${queue}' is a FIFO queue: payload field '${field}' (message_group_field) is missing or null`,
    );
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

async function define(mod: QueueModule, raw: unknown): Promise<{ queue: string; changed: boolean }> {
  const input = asObject(raw, DEFINE);
  const queue = requireQueueName(input, DEFINE);
  let settings: QueueSettings;
  try {
    settings = parseQueueSettings(input.config, 'config');
  } catch (error) {
    if (error instanceof QueueConfigError) {
      throw new EngineError('invalid_queue_config', `queue '${queue}': ${error.message}`);
    }
    throw error;
  }
  return { queue, changed: await mod.definitions.define(queue, settings) };
}
