/**
 * Jobs and dead letters in the engine's SQLite database (one engine). An enqueue is committed
 * with the other writes of its tick before it is answered; acks are batched into one transaction
 * per event-loop turn (an ack lost to a crash only means one more, at-least-once, delivery).
 */
import type { Logger } from 'pino';
import { errorText } from './errors.js';
import type { QueueStore, StoredDeadLetter } from './store.js';
import type { JobSink, QueueTransport } from './transport.js';
import type { Job, NewJob } from './types.js';

export class SqliteTransport implements QueueTransport {
  readonly brokerType = 'builtin';
  #sink: JobSink = () => undefined;
  #acks: number[] = [];
  #ackFlushScheduled = false;

  constructor(
    private readonly store: QueueStore,
    private readonly logger: Logger,
  ) {}

  start(sink: JobSink): void {
    this.#sink = sink;
    const pending = this.store.loadJobs();
    for (const job of pending) sink(job);
    if (pending.length > 0) this.logger.info({ jobs: pending.length }, 'queue: redelivering unacknowledged jobs');
  }

  openLane(): void {}

  closeLane(): void {}

  async enqueue(job: NewJob): Promise<void> {
    this.#sink(await this.store.enqueueJob(job));
  }

  async publish(topic: string, messageId: string, data: unknown, subscribers: string[]): Promise<void> {
    if (subscribers.length === 0) {
      this.logger.debug({ topic }, 'durable publish without subscribers; message dropped');
      return;
    }
    const now = Date.now();
    const jobs: NewJob[] = subscribers.map((functionId) => ({
      kind: 'topic',
      queue: topic,
      messageId,
      functionId,
      data,
      groupKey: null,
      attempts: 0,
      availableAt: now,
      enqueuedAt: now,
    }));
    for (const job of this.store.insertJobs(jobs)) this.#sink(job);
  }

  holds(): boolean {
    return true;
  }

  ack(job: Job): void {
    this.#acks.push(job.seq);
    if (this.#ackFlushScheduled) return;
    this.#ackFlushScheduled = true;
    setImmediate(() => this.#flushAcks());
  }

  retry(job: Job, error: string): void {
    this.store.markRetry(job, error);
  }

  deadLetter(job: Job, error: string, failedAt: number): void {
    this.store.deadLetter(job, error, failedAt);
  }

  async redrive(queue: string, messageId?: string): Promise<number> {
    const jobs = this.store.redrive(queue, messageId);
    for (const job of jobs) this.#sink(job);
    return jobs.length;
  }

  async discard(queue: string, messageId: string): Promise<number> {
    return this.store.discard(queue, messageId);
  }

  async deadLetters(queue: string, offset: number, limit: number): Promise<StoredDeadLetter[]> {
    return this.store.deadLetters(queue, offset, limit);
  }

  async countDeadLetters(queue: string): Promise<number> {
    return this.store.countDeadLetters(queue);
  }

  async deadLetterCounts(): Promise<Array<{ queue: string; count: number }>> {
    return this.store.deadLetterCounts();
  }

  async brokerDepth(): Promise<number> {
    return 0;
  }

  close(): void {
    this.#flushAcks();
  }

  #flushAcks(): void {
    this.#ackFlushScheduled = false;
    if (this.#acks.length === 0) return;
    const seqs = this.#acks;
    this.#acks = [];
    try {
      this.store.deleteJobs(seqs);
    } catch (error) {
      // The database is gone (engine closing): the jobs are delivered again next start.
      this.logger.warn({ err: errorText(error) }, 'queue ack flush failed');
    }
  }
}
