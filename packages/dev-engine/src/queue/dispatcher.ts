/**
 * Delivers jobs from every lane to their target functions: ack on success, retry with backoff or
 * dead-letter on failure, park while the target is not registered.
 *
 * Wake-ups are event-driven: a job becoming ready schedules one microtask drain, and a finished
 * delivery pulls the next job of its lane at once. Outcomes go to the transport (SQLite or
 * RabbitMQ), which keeps the job until it is acknowledged.
 */
import type { CallOptions, EngineApi } from '../engine-api.js';
import { backoffDelay } from './backoff.js';
import { DEFAULT_QUEUE_SETTINGS } from './config.js';
import { errorText } from './errors.js';
import { Lane, type LaneMeta, type LaneSettings } from './lane.js';
import type { QueueTransport } from './transport.js';
import { type Job, laneKeyOf } from './types.js';

const DEFAULT_SUBSCRIBER_LANE: LaneSettings = {
  fifo: false,
  concurrency: DEFAULT_QUEUE_SETTINGS.concurrency,
  maxRetries: DEFAULT_QUEUE_SETTINGS.max_retries,
  backoffMs: DEFAULT_QUEUE_SETTINGS.backoff_ms,
  timeoutMs: DEFAULT_QUEUE_SETTINGS.timeout_ms,
};

export class Dispatcher {
  readonly #engine: EngineApi;
  readonly #transport: QueueTransport;
  readonly #lanes = new Map<string, Lane>();
  /** Jobs of lanes that are not defined (yet): a queue whose definition is gone after a restart. */
  readonly #orphans = new Map<string, Job[]>();
  readonly #toDrain = new Set<Lane>();
  #drainScheduled = false;
  #closed = false;

  constructor(engine: EngineApi, transport: QueueTransport) {
    this.#engine = engine;
    this.#transport = transport;
  }

  /** Creates a lane or applies new settings to it; adopts jobs that were waiting for it. */
  defineLane(key: string, meta: LaneMeta, settings: LaneSettings): Lane {
    const existing = this.#lanes.get(key);
    if (existing) {
      existing.reconfigure(meta, settings);
      return existing;
    }
    const lane = new Lane(key, meta, settings, {
      isCallable: (functionId) => this.#engine.hasFunction(functionId),
      onReady: (ready) => this.#scheduleDrain(ready),
    });
    this.#lanes.set(key, lane);
    const orphans = this.#orphans.get(key);
    if (orphans) {
      this.#orphans.delete(key);
      for (const job of orphans) lane.add(job);
    }
    return lane;
  }

  lane(key: string): Lane | undefined {
    return this.#lanes.get(key);
  }

  lanes(): IterableIterator<Lane> {
    return this.#lanes.values();
  }

  /** Jobs held for lanes that do not exist, per lane key (for stats). */
  orphanCount(key: string): number {
    return this.#orphans.get(key)?.length ?? 0;
  }

  /** Hands a persisted job to its lane (or holds it until the lane is defined). */
  submit(job: Job): void {
    const key = laneKeyOf(job);
    const lane = this.#lanes.get(key);
    if (lane) {
      lane.add(job);
      return;
    }
    if (job.kind === 'topic') {
      // A subscriber lane whose subscription is gone (redrive, leftovers): deliver with defaults.
      this.defineLane(key, { kind: 'topic', name: job.queue, subscriber: job.functionId }, DEFAULT_SUBSCRIBER_LANE).add(
        job,
      );
      return;
    }
    const held = this.#orphans.get(key);
    if (held) held.push(job);
    else this.#orphans.set(key, [job]);
  }

  /** A function was registered or removed: release jobs that were waiting for their target. */
  onFunctionsChanged(): void {
    if (this.#closed) return;
    for (const lane of this.#lanes.values()) if (lane.parked) lane.unpark();
  }

  /**
   * The broker connection was lost: every job it had handed over and that is not running is
   * dropped here (the broker delivers it again, here or to another engine). Running jobs finish;
   * their outcome reaches a transport that ignores deliveries of the lost connection.
   */
  dropWaiting(): number {
    let dropped = 0;
    for (const lane of this.#lanes.values()) dropped += lane.clearWaiting();
    for (const held of this.#orphans.values()) dropped += held.length;
    this.#orphans.clear();
    return dropped;
  }

  close(): void {
    this.#closed = true;
    for (const lane of this.#lanes.values()) lane.dispose();
  }

  // ---- delivery

  #scheduleDrain(lane: Lane): void {
    if (this.#closed) return;
    this.#toDrain.add(lane);
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    queueMicrotask(() => {
      this.#drainScheduled = false;
      const lanes = [...this.#toDrain];
      this.#toDrain.clear();
      for (const ready of lanes) this.#pump(ready);
    });
  }

  #pump(lane: Lane): void {
    if (this.#closed) return;
    for (let job = lane.take(); job; job = lane.take()) this.#deliver(lane, job);
  }

  #deliver(lane: Lane, job: Job): void {
    this.#attempt(lane, job).then(
      () => this.#succeeded(lane, job),
      (error: unknown) => this.#failed(lane, job, error),
    );
  }

  #attempt(lane: Lane, job: Job): Promise<unknown> {
    const condition = lane.meta.conditionFunctionId;
    if (!condition) return this.#invokeTarget(lane, job);
    return this.#conditionAllows(condition, job).then((allowed) =>
      allowed ? this.#invokeTarget(lane, job) : undefined,
    );
  }

  #invokeTarget(lane: Lane, job: Job): Promise<unknown> {
    const call = this.#engine.call(job.functionId, job.data, callOptions(lane.meta, job));
    return withTimeout(call, lane.settings.timeoutMs, job.functionId);
  }

  /** iii semantics: only an explicit `false` skips; an erroring condition skips and logs. */
  async #conditionAllows(conditionFunctionId: string, job: Job): Promise<boolean> {
    try {
      return (await this.#engine.call(conditionFunctionId, job.data)) !== false;
    } catch (error) {
      this.#engine.logger.warn(
        { condition_function_id: conditionFunctionId, queue: job.queue, err: errorText(error) },
        'queue condition function failed; message skipped',
      );
      return false;
    }
  }

  #succeeded(lane: Lane, job: Job): void {
    if (this.#closed) return;
    lane.delivered++;
    lane.complete(job);
    this.#transport.ack(job);
    this.#pump(lane);
  }

  #failed(lane: Lane, job: Job, error: unknown): void {
    if (this.#closed) return;
    if (!this.#transport.holds(job)) {
      // Its connection to the broker is gone: the broker redelivers it, nothing to retry here.
      lane.complete(job);
      this.#pump(lane);
      return;
    }
    if (isEngineShutdown(error)) {
      // The engine fails in-flight calls before running close hooks: leave the job untouched
      // (still persisted, redelivered on the next start) instead of spending a retry.
      this.close();
      return;
    }
    if (isTargetMissing(error) && !this.#engine.hasFunction(job.functionId)) {
      // The target went away between take() and the call: wait for it, spend no retry.
      lane.parkAgain(job);
      this.#pump(lane);
      return;
    }
    // Any other error spends an attempt, `invocation_stopped` (the target's worker went away
    // mid-call) included: iii v0.22.1's queue nacks every failed call the same way.
    const message = errorText(error);
    const now = Date.now();
    job.attempts++;
    lane.failed++;
    if (job.attempts >= lane.settings.maxRetries) {
      this.#transport.deadLetter(job, message, now);
      lane.complete(job);
      this.#engine.logger.warn(
        {
          queue: job.queue,
          function_id: job.functionId,
          message_id: job.messageId,
          attempts: job.attempts,
          err: message,
        },
        'queue job dead-lettered',
      );
    } else {
      job.availableAt = now + backoffDelay(lane.settings.backoffMs, job.attempts);
      this.#transport.retry(job, message);
      lane.retry(job);
      this.#engine.logger.debug(
        { queue: job.queue, function_id: job.functionId, attempts: job.attempts, err: message },
        'queue job failed; retry scheduled',
      );
    }
    this.#pump(lane);
  }
}

function callOptions(meta: LaneMeta, job: Job): CallOptions | undefined {
  if (meta.metadata === undefined && job.traceparent === undefined && job.baggage === undefined) return undefined;
  const options: CallOptions = {};
  if (meta.metadata !== undefined) options.metadata = meta.metadata;
  if (job.traceparent !== undefined) options.traceparent = job.traceparent;
  if (job.baggage !== undefined) options.baggage = job.baggage;
  return options;
}

/** Rejects with a `timeout` error after `ms`; the call itself keeps running and its result is dropped. */
function withTimeout<T>(call: Promise<T>, ms: number, functionId: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(Object.assign(new Error(`Function ${functionId} timed out after ${ms}ms`), { code: 'timeout' })),
      ms,
    );
    timer.unref();
    call.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The router rejects internal calls with this when it shuts down (`Router.close`). */
function isEngineShutdown(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'invocation_stopped' && typeof message === 'string' && /shutting down/i.test(message);
}

function isTargetMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'function_not_found';
}
