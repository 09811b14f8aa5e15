/**
 * Dead-letter functions: `iii::queue::{redrive, redrive_message, discard_message}` and
 * `engine::queue::{dlq_topics, dlq_messages}`. A name addresses a queue or a topic; for a topic
 * the operation spans the dead letters of all its subscribers (as in iii).
 */
import { asObject, optionalCount, requireQueueName, requireString } from './input.js';
import type { QueueModule } from './module.js';

const REDRIVE = 'iii::queue::redrive';
const REDRIVE_MESSAGE = 'iii::queue::redrive_message';
const DISCARD_MESSAGE = 'iii::queue::discard_message';
const DLQ_TOPICS = 'engine::queue::dlq_topics';
const DLQ_MESSAGES = 'engine::queue::dlq_messages';

/** One entry of `engine::queue::dlq_messages`. */
export interface DlqMessageView {
  id: string;
  queue: string;
  function_id: string;
  payload: unknown;
  error: string;
  failed_at: number;
  retries: number;
  size_bytes: number;
}

export function registerDeadLetterFunctions(mod: QueueModule): void {
  const { engine } = mod;
  engine.registerFunction({
    id: REDRIVE,
    description: 'Move every dead-lettered message of a queue or topic back for delivery',
    handler: async (raw: unknown) => {
      const queue = requireQueueName(asObject(raw, REDRIVE), REDRIVE);
      return { queue, redriven: await mod.transport.redrive(queue) };
    },
  });
  engine.registerFunction({
    id: REDRIVE_MESSAGE,
    description: 'Move one dead-lettered message back for delivery',
    handler: async (raw: unknown) => {
      const input = asObject(raw, REDRIVE_MESSAGE);
      const queue = requireQueueName(input, REDRIVE_MESSAGE);
      const messageId = requireString(input, 'message_id', REDRIVE_MESSAGE);
      return { queue, message_id: messageId, redriven: await mod.transport.redrive(queue, messageId) };
    },
  });
  engine.registerFunction({
    id: DISCARD_MESSAGE,
    description: 'Delete one dead-lettered message',
    handler: async (raw: unknown) => {
      const input = asObject(raw, DISCARD_MESSAGE);
      const queue = requireQueueName(input, DISCARD_MESSAGE);
      const messageId = requireString(input, 'message_id', DISCARD_MESSAGE);
      const discarded = await mod.transport.discard(queue, messageId);
      // iii's worker reports the count under `redriven`; keep it for parity, add a clear name.
      return { queue, message_id: messageId, discarded, redriven: discarded };
    },
  });
  engine.registerFunction({
    id: DLQ_TOPICS,
    description: 'Queues and topics that hold dead-lettered messages, with counts',
    handler: async () =>
      (await mod.transport.deadLetterCounts()).map(({ queue, count }) => ({
        topic: queue,
        broker_type: mod.transport.brokerType,
        message_count: count,
      })),
  });
  engine.registerFunction({
    id: DLQ_MESSAGES,
    description: 'Browse the dead-lettered messages of a queue or topic (oldest first)',
    handler: async (raw: unknown): Promise<DlqMessageView[]> => {
      const input = asObject(raw, DLQ_MESSAGES);
      const queue = requireQueueName(input, DLQ_MESSAGES);
      const offset = optionalCount(input, 'offset', 0, DLQ_MESSAGES);
      const limit = optionalCount(input, 'limit', 50, DLQ_MESSAGES);
      return (await mod.transport.deadLetters(queue, offset, limit)).map(({ job, error, failed_at }) => ({
        id: job.id,
        queue: job.queue,
        function_id: job.function_id,
        payload: job.data,
        error,
        failed_at,
        retries: job.attempts,
        size_bytes: Buffer.byteLength(JSON.stringify(job.data ?? null)),
      }));
    },
  });
}
