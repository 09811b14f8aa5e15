/**
 * SQLite persistence for jobs, dead letters, queue definitions and topic subscriptions.
 * Tables live on the engine's database (`engine.db`); every write here is its own commit (or one
 * transaction for multi-row writes), except enqueues, which share the commit of their tick's
 * other writes (WriteBatch). Either way a write that returned or resolved survives `kill -9`.
 */
import type { Database, Statement } from 'better-sqlite3';
import { type WriteBatch, writeBatchOf } from '../write-batch.js';
import type { QueueSettings, SubscriberSettings } from './config.js';
import type { DeadLetter, DeadLetterJob, Job, JobKind, NewJob } from './types.js';

// queue_jobs.seq is a plain rowid, not AUTOINCREMENT: a new row still gets max(seq) + 1, so it
// sorts after every job that is still stored (all the enqueue order needs), and the insert skips
// the sqlite_sequence update, one 4 KiB page less written to the WAL per enqueue (~5 µs here).
// Databases created with AUTOINCREMENT keep it and work the same.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue_jobs (
  seq          INTEGER PRIMARY KEY,
  kind         TEXT    NOT NULL,
  queue        TEXT    NOT NULL,
  message_id   TEXT    NOT NULL,
  function_id  TEXT    NOT NULL,
  data         TEXT    NOT NULL,
  group_key    TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  available_at INTEGER NOT NULL,
  enqueued_at  INTEGER NOT NULL,
  last_error   TEXT,
  traceparent  TEXT,
  baggage      TEXT
);
CREATE TABLE IF NOT EXISTS queue_dead_letters (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  queue      TEXT    NOT NULL,
  message_id TEXT    NOT NULL,
  job        TEXT    NOT NULL,
  error      TEXT    NOT NULL,
  failed_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_dead_letters_by_queue ON queue_dead_letters (queue, message_id);
CREATE TABLE IF NOT EXISTS queue_definitions (
  name       TEXT PRIMARY KEY,
  config     TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS queue_subscriptions (
  topic       TEXT NOT NULL,
  function_id TEXT NOT NULL,
  config      TEXT NOT NULL,
  metadata    TEXT,
  PRIMARY KEY (topic, function_id)
);
`;

interface JobRow {
  seq: number;
  kind: JobKind;
  queue: string;
  message_id: string;
  function_id: string;
  data: string;
  group_key: string | null;
  attempts: number;
  available_at: number;
  enqueued_at: number;
  traceparent: string | null;
  baggage: string | null;
}

interface DeadLetterRow {
  seq: number;
  queue: string;
  message_id: string;
  job: string;
  error: string;
  failed_at: number;
}

export interface StoredSubscription {
  topic: string;
  functionId: string;
  settings: SubscriberSettings;
  metadata?: Record<string, unknown>;
}

/** A dead letter as listed by `engine::queue::dlq_messages`. */
export interface StoredDeadLetter extends DeadLetter {
  seq: number;
}

export class QueueStore {
  readonly #db: Database;
  readonly #insertJob: Statement;
  readonly #deleteJob: Statement;
  readonly #markRetry: Statement;
  readonly #insertDeadLetter: Statement;
  readonly #deleteDeadLetter: Statement;
  readonly #selectDeadLetters: Statement;
  readonly #selectDeadLetter: Statement;
  readonly #pageDeadLetters: Statement;
  readonly #countDeadLetters: Statement;
  readonly #countAllDeadLetters: Statement;
  readonly #upsertDefinition: Statement;
  readonly #upsertSubscription: Statement;
  readonly #deleteSubscription: Statement;
  // Transaction wrappers are built once: better-sqlite3's db.transaction() is costly per call.
  readonly #insertJobsTx: (jobs: NewJob[]) => Job[];
  readonly #deleteJobsTx: (seqs: number[]) => void;
  readonly #deadLetterTx: (job: Job, error: string, failedAt: number) => void;
  readonly #redriveTx: (queue: string, messageId: string | undefined) => Job[];
  readonly #discardTx: (queue: string, messageId: string) => number;
  readonly #batch: WriteBatch;

  constructor(db: Database) {
    this.#db = db;
    db.exec(SCHEMA);
    this.#insertJob = db.prepare(
      `INSERT INTO queue_jobs (kind, queue, message_id, function_id, data, group_key, attempts, available_at, enqueued_at, traceparent, baggage)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#deleteJob = db.prepare('DELETE FROM queue_jobs WHERE seq = ?');
    this.#markRetry = db.prepare('UPDATE queue_jobs SET attempts = ?, available_at = ?, last_error = ? WHERE seq = ?');
    this.#insertDeadLetter = db.prepare(
      'INSERT INTO queue_dead_letters (queue, message_id, job, error, failed_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.#deleteDeadLetter = db.prepare('DELETE FROM queue_dead_letters WHERE seq = ?');
    this.#selectDeadLetters = db.prepare('SELECT * FROM queue_dead_letters WHERE queue = ? ORDER BY seq');
    this.#selectDeadLetter = db.prepare(
      'SELECT * FROM queue_dead_letters WHERE queue = ? AND message_id = ? ORDER BY seq',
    );
    this.#pageDeadLetters = db.prepare(
      'SELECT * FROM queue_dead_letters WHERE queue = ? ORDER BY seq LIMIT ? OFFSET ?',
    );
    this.#countDeadLetters = db.prepare('SELECT COUNT(*) AS n FROM queue_dead_letters WHERE queue = ?');
    this.#countAllDeadLetters = db.prepare(
      'SELECT queue, COUNT(*) AS n FROM queue_dead_letters GROUP BY queue ORDER BY queue',
    );
    this.#upsertDefinition = db.prepare(
      `INSERT INTO queue_definitions (name, config, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
    );
    this.#upsertSubscription = db.prepare(
      `INSERT INTO queue_subscriptions (topic, function_id, config, metadata) VALUES (?, ?, ?, ?)
       ON CONFLICT (topic, function_id) DO UPDATE SET config = excluded.config, metadata = excluded.metadata`,
    );
    this.#deleteSubscription = db.prepare('DELETE FROM queue_subscriptions WHERE topic = ? AND function_id = ?');
    this.#insertJobsTx = db.transaction((jobs: NewJob[]) => jobs.map((job) => this.insertJob(job)));
    this.#deleteJobsTx = db.transaction((seqs: number[]) => {
      for (const seq of seqs) this.#deleteJob.run(seq);
    });
    this.#deadLetterTx = db.transaction((job: Job, error: string, failedAt: number) => {
      this.#deleteJob.run(job.seq);
      this.#insertDeadLetter.run(job.queue, job.messageId, JSON.stringify(toDeadLetterJob(job)), error, failedAt);
    });
    this.#redriveTx = db.transaction((queue: string, messageId: string | undefined) => this.#redrive(queue, messageId));
    this.#batch = writeBatchOf(db);
    this.#discardTx = db.transaction((queue: string, messageId: string) => {
      const rows = this.#deadLetterRows(queue, messageId);
      for (const row of rows) this.#deleteDeadLetter.run(row.seq);
      return rows.length;
    });
  }

  // ---- jobs

  /** Persists one job (committed when this returns) and gives it its `seq`. */
  insertJob(job: NewJob): Job {
    const info = this.#insertJob.run(...jobParams(job));
    return { ...job, seq: Number(info.lastInsertRowid) };
  }

  /** Persists one job with the other writes of this tick (group commit); resolves once committed. */
  enqueueJob(job: NewJob): Promise<Job> {
    return this.#batch.write(() => this.insertJob(job), { atomic: true });
  }

  /** Persists several jobs in one transaction (durable-topic fan-out). */
  insertJobs(jobs: NewJob[]): Job[] {
    return this.#insertJobsTx(jobs);
  }

  /** Acknowledged jobs, deleted in one transaction (acks are batched per event-loop turn). */
  deleteJobs(seqs: number[]): void {
    if (seqs.length === 1) this.#deleteJob.run(seqs[0]);
    else this.#deleteJobsTx(seqs);
  }

  markRetry(job: Job, error: string): void {
    this.#markRetry.run(job.attempts, job.availableAt, error, job.seq);
  }

  /** Every unacknowledged job in enqueue order: what a restarted engine delivers again. */
  loadJobs(): Job[] {
    const rows = this.#db.prepare('SELECT * FROM queue_jobs ORDER BY seq').all() as JobRow[];
    return rows.map(rowToJob);
  }

  // ---- dead letters

  /** Moves a job to the dead-letter table atomically. */
  deadLetter(job: Job, error: string, failedAt: number): void {
    this.#deadLetterTx(job, error, failedAt);
  }

  /**
   * Moves dead letters of `queue` (all, or those with `messageId`) back to the job table with
   * a fresh retry budget, in one transaction. Returns the new jobs for the dispatcher.
   */
  redrive(queue: string, messageId?: string): Job[] {
    return this.#redriveTx(queue, messageId);
  }

  /** Deletes the dead letters of `queue` with `messageId`; returns how many there were. */
  discard(queue: string, messageId: string): number {
    return this.#discardTx(queue, messageId);
  }

  #redrive(queue: string, messageId: string | undefined): Job[] {
    const rows = this.#deadLetterRows(queue, messageId);
    const now = Date.now();
    return rows.map((row) => {
      this.#deleteDeadLetter.run(row.seq);
      const stored = JSON.parse(row.job) as DeadLetterJob;
      return this.insertJob({
        kind: stored.kind,
        queue: stored.queue,
        messageId: stored.id,
        functionId: stored.function_id,
        data: stored.data,
        groupKey: stored.group,
        attempts: 0,
        availableAt: now,
        enqueuedAt: stored.enqueued_at,
        ...(stored.traceparent !== undefined && { traceparent: stored.traceparent }),
        ...(stored.baggage !== undefined && { baggage: stored.baggage }),
      });
    });
  }

  deadLetters(queue: string, offset: number, limit: number): StoredDeadLetter[] {
    const rows = this.#pageDeadLetters.all(queue, limit, offset) as DeadLetterRow[];
    return rows.map((row) => ({
      seq: row.seq,
      job: JSON.parse(row.job) as DeadLetterJob,
      error: row.error,
      failed_at: row.failed_at,
    }));
  }

  countDeadLetters(queue: string): number {
    return (this.#countDeadLetters.get(queue) as { n: number }).n;
  }

  deadLetterCounts(): Array<{ queue: string; count: number }> {
    const rows = this.#countAllDeadLetters.all() as Array<{ queue: string; n: number }>;
    return rows.map((row) => ({ queue: row.queue, count: row.n }));
  }

  #deadLetterRows(queue: string, messageId?: string): DeadLetterRow[] {
    return (
      messageId === undefined ? this.#selectDeadLetters.all(queue) : this.#selectDeadLetter.all(queue, messageId)
    ) as DeadLetterRow[];
  }

  // ---- queue definitions (queue::define)

  saveDefinition(name: string, settings: QueueSettings): void {
    this.#upsertDefinition.run(name, JSON.stringify(settings), Date.now());
  }

  loadDefinitions(): Map<string, unknown> {
    const rows = this.#db.prepare('SELECT name, config FROM queue_definitions').all() as Array<{
      name: string;
      config: string;
    }>;
    return new Map(rows.map((row) => [row.name, JSON.parse(row.config) as unknown]));
  }

  // ---- durable topic subscriptions

  saveSubscription(sub: StoredSubscription): void {
    this.#upsertSubscription.run(
      sub.topic,
      sub.functionId,
      JSON.stringify(sub.settings),
      sub.metadata === undefined ? null : JSON.stringify(sub.metadata),
    );
  }

  deleteSubscription(topic: string, functionId: string): void {
    this.#deleteSubscription.run(topic, functionId);
  }

  loadSubscriptions(): StoredSubscription[] {
    const rows = this.#db.prepare('SELECT * FROM queue_subscriptions').all() as Array<{
      topic: string;
      function_id: string;
      config: string;
      metadata: string | null;
    }>;
    return rows.map((row) => ({
      topic: row.topic,
      functionId: row.function_id,
      settings: JSON.parse(row.config) as SubscriberSettings,
      ...(row.metadata !== null && { metadata: JSON.parse(row.metadata) as Record<string, unknown> }),
    }));
  }
}

function jobParams(job: NewJob): unknown[] {
  return [
    job.kind,
    job.queue,
    job.messageId,
    job.functionId,
    JSON.stringify(job.data ?? null),
    job.groupKey,
    job.attempts,
    job.availableAt,
    job.enqueuedAt,
    job.traceparent ?? null,
    job.baggage ?? null,
  ];
}

function rowToJob(row: JobRow): Job {
  const job: Job = {
    seq: row.seq,
    kind: row.kind,
    queue: row.queue,
    messageId: row.message_id,
    functionId: row.function_id,
    data: JSON.parse(row.data) as unknown,
    groupKey: row.group_key,
    attempts: row.attempts,
    availableAt: row.available_at,
    enqueuedAt: row.enqueued_at,
  };
  if (row.traceparent !== null) job.traceparent = row.traceparent;
  if (row.baggage !== null) job.baggage = row.baggage;
  return job;
}

export function toDeadLetterJob(job: Job): DeadLetterJob {
  return {
    id: job.messageId,
    kind: job.kind,
    queue: job.queue,
    function_id: job.functionId,
    data: job.data,
    group: job.groupKey,
    attempts: job.attempts,
    enqueued_at: job.enqueuedAt,
    ...(job.traceparent !== undefined && { traceparent: job.traceparent }),
    ...(job.baggage !== undefined && { baggage: job.baggage }),
  };
}
