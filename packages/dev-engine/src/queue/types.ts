/** Shapes shared by the queue module's files. */

/** A named function queue (`TriggerAction.Enqueue`) or a durable topic's per-subscriber lane. */
export type JobKind = 'queue' | 'topic';

/** One delivery unit. Mirrors a `queue_jobs` row; `data` is kept parsed in memory. */
export interface Job {
  /** SQLite rowid: the global enqueue order, used for FIFO order after a restart. */
  seq: number;
  kind: JobKind;
  /** Queue name, or topic name for `kind: 'topic'`. */
  queue: string;
  /** The engine-issued `messageReceiptId` (queues) or the published message id (topics). */
  messageId: string;
  functionId: string;
  data: unknown;
  /** FIFO group value (stringified `data[message_group_field]`); null on standard lanes. */
  groupKey: string | null;
  /** Failed deliveries so far. A restart redelivery does not count. */
  attempts: number;
  /** Epoch ms before which the job must not be delivered (retry backoff). */
  availableAt: number;
  enqueuedAt: number;
  traceparent?: string;
  baggage?: string;
}

/** A job before SQLite assigned it a `seq`. */
export type NewJob = Omit<Job, 'seq'>;

/** The serialized job inside a dead-letter entry `{job, error, failed_at}`. */
export interface DeadLetterJob {
  id: string;
  kind: JobKind;
  queue: string;
  function_id: string;
  data: unknown;
  group: string | null;
  attempts: number;
  enqueued_at: number;
  traceparent?: string;
  baggage?: string;
}

export interface DeadLetter {
  job: DeadLetterJob;
  error: string;
  failed_at: number;
}

/** Lane key of a named queue. Prefixes keep a queue and a topic of the same name apart. */
export function queueLaneKey(queue: string): string {
  return `q:${queue}`;
}

/** Lane key of one durable-topic subscriber: every subscribed function has its own lane. */
export function topicLaneKey(topic: string, functionId: string): string {
  return `t:${topic}\u0000${functionId}`;
}

export function laneKeyOf(job: Pick<Job, 'kind' | 'queue' | 'functionId'>): string {
  return job.kind === 'queue' ? queueLaneKey(job.queue) : topicLaneKey(job.queue, job.functionId);
}
