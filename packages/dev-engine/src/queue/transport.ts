/**
 * The queue module's storage and delivery seam: where jobs are kept until acknowledged, and
 * where dead letters live. `SqliteTransport` keeps them in the engine's database (one engine;
 * iii's `builtin` adapter); `AmqpTransport` in RabbitMQ (several engines competing for the same
 * queues; iii's `rabbitmq` adapter). Scheduling (FIFO groups, concurrency, backoff, parking) is
 * the dispatcher's and the same over both.
 */
import type { LaneMeta, LaneSettings } from './lane.js';
import type { StoredDeadLetter } from './store.js';
import type { Job, NewJob } from './types.js';

/** Hands a job to this engine's dispatcher (a job arriving from storage or the broker). */
export type JobSink = (job: Job) => void;

export interface QueueTransport {
  /** `broker_type` in listings: `builtin` (SQLite) or `rabbitmq`. */
  readonly brokerType: string;
  /** Starts delivering jobs (SQLite: those left unacknowledged by the previous run) to `sink`. */
  start(sink: JobSink): Promise<void> | void;
  /** A named queue is defined, or a durable-topic subscription installed: receive its jobs. */
  openLane(key: string, meta: LaneMeta, settings: LaneSettings): Promise<void> | void;
  /** The subscription behind a lane ended on this engine: stop receiving its jobs. */
  closeLane(key: string, meta: LaneMeta): Promise<void> | void;
  /** Resolves once the job is durable; it then reaches some engine's sink (SQLite: this one's). */
  enqueue(job: NewJob): Promise<void>;
  /** One message for each subscriber of `topic`; `subscribers` are the ones this engine knows. */
  publish(topic: string, messageId: string, data: unknown, subscribers: string[]): Promise<void>;
  /**
   * Whether the job's delivery is still this engine's (false once the broker connection it came
   * on was lost: the broker delivers it again, so its outcome here must change nothing).
   */
  holds(job: Job): boolean;
  /** The job succeeded (or was skipped by its condition): forget it. */
  ack(job: Job): void;
  /** The job failed and is retried at `job.availableAt` (`job.attempts` already counts this failure). */
  retry(job: Job, error: string): void;
  /** The job failed for the last time: keep it as a dead letter. */
  deadLetter(job: Job, error: string, failedAt: number): void;
  /** Moves dead letters of a queue or topic (all, or those with `messageId`) back; returns how many. */
  redrive(queue: string, messageId?: string): Promise<number>;
  discard(queue: string, messageId: string): Promise<number>;
  deadLetters(queue: string, offset: number, limit: number): Promise<StoredDeadLetter[]>;
  countDeadLetters(queue: string): Promise<number>;
  deadLetterCounts(): Promise<Array<{ queue: string; count: number }>>;
  /** Jobs waiting in the broker, not yet handed to any engine (0 for SQLite: all are in lanes). */
  brokerDepth(key: string, meta: LaneMeta): Promise<number>;
  close(): Promise<void> | void;
}
