/**
 * How jobs look on RabbitMQ: the headers a job travels with, a dead letter read back, and small
 * helpers of the AMQP transport (see amqp-transport.ts).
 */
import type { Channel } from 'amqplib';
import type { LaneMeta } from './lane.js';
import type { StoredDeadLetter } from './store.js';
import type { DeadLetterJob, Job, NewJob } from './types.js';

export type Headers = Record<string, unknown>;

export function jobHeaders(job: NewJob | Job): Headers {
  const headers: Headers = {
    function_id: job.functionId,
    'x-attempt': job.attempts,
    'x-iii-enqueued-at': job.enqueuedAt,
  };
  if (job.groupKey !== null) headers['x-iii-group'] = job.groupKey;
  if (job.traceparent !== undefined) headers.traceparent = job.traceparent;
  if (job.baggage !== undefined) headers.baggage = job.baggage;
  return headers;
}

export function laneMetaOf(job: Job): LaneMeta {
  return job.kind === 'queue'
    ? { kind: 'queue', name: job.queue }
    : { kind: 'topic', name: job.queue, subscriber: job.functionId };
}

export function toDeadLetter(
  meta: LaneMeta,
  message: { content: Buffer; properties: { messageId?: string; headers?: unknown } },
  seq: number,
): StoredDeadLetter {
  const headers = (message.properties.headers ?? {}) as Headers;
  let data: unknown = null;
  try {
    data = JSON.parse(message.content.toString('utf8'));
  } catch {
    data = message.content.toString('utf8');
  }
  const job: DeadLetterJob = {
    id: String(message.properties.messageId ?? ''),
    kind: meta.kind,
    queue: meta.name,
    function_id: meta.kind === 'topic' ? (meta.subscriber ?? '') : String(headers.function_id ?? ''),
    data,
    group: typeof headers['x-iii-group'] === 'string' ? headers['x-iii-group'] : null,
    attempts: Number(headers['x-attempt'] ?? 0) || 0,
    enqueued_at: Number(headers['x-iii-enqueued-at'] ?? 0) || 0,
  };
  if (typeof headers.traceparent === 'string') job.traceparent = headers.traceparent;
  if (typeof headers.baggage === 'string') job.baggage = headers.baggage;
  return {
    seq,
    job,
    error: String(headers['x-iii-error'] ?? 'exhausted retries'),
    failed_at: Number(headers['x-iii-failed-at'] ?? 0) || 0,
  };
}

/** Ready messages in `queue`; 0 when it does not exist (a failed check closes its own channel). */
export async function messageCount(
  withChannel: <T>(step: (channel: Channel) => Promise<T>) => Promise<T>,
  queue: string,
): Promise<number> {
  try {
    return await withChannel(async (channel) => (await channel.checkQueue(queue)).messageCount);
  } catch {
    return 0;
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}

export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}
