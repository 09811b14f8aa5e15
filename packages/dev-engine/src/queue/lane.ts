/**
 * One delivery lane: a named queue, or one subscriber of a durable topic. Pure scheduling, no I/O:
 * the dispatcher asks `take()` for the next job it may deliver and reports each outcome back.
 *
 * - standard: any ready job may run, up to `concurrency` at once.
 * - fifo: jobs are grouped by `groupKey`; a group runs one job at a time, in enqueue order, and
 *   a failed head blocks its group through its backoff (strict order); different groups run in
 *   parallel up to `concurrency`.
 * - A job whose target function is not registered is parked (its whole group, for fifo) until
 *   `unpark()` is called after a registration; parking spends no retries.
 */
import { Deque } from './deque.js';
import type { Job, JobKind } from './types.js';

export interface LaneSettings {
  fifo: boolean;
  concurrency: number;
  maxRetries: number;
  backoffMs: number;
  timeoutMs: number;
}

/** What a lane delivers to besides the job's own target (durable-topic subscribers only). */
export interface LaneMeta {
  kind: JobKind;
  /** Queue or topic name. */
  name: string;
  /** Topic lanes: the subscribed function. */
  subscriber?: string;
  conditionFunctionId?: string;
  /** Trigger metadata handed to the subscriber as invocation metadata. */
  metadata?: Record<string, unknown>;
}

export interface LaneHooks {
  isCallable(functionId: string): boolean;
  /** A job became deliverable (new, backoff elapsed, unparked). */
  onReady(lane: Lane): void;
}

type Timer = ReturnType<typeof setTimeout>;

export class Lane {
  /** Jobs handed out by `take()` and not settled yet. */
  inFlight = 0;
  /** Every job the lane owns, whatever its state. */
  size = 0;
  delivered = 0;
  failed = 0;

  readonly #running = new Set<Job>();
  // standard
  readonly #ready = new Deque<Job>();
  readonly #delayed = new Map<Job, Timer>();
  readonly #parkedJobs = new Map<string, Job[]>();
  // fifo: queued jobs per group (a running head is taken out and put back on retry)
  readonly #groups = new Map<string, Deque<Job>>();
  readonly #runnable = new Deque<string>();
  readonly #runnableSet = new Set<string>();
  readonly #runningGroups = new Set<string>();
  readonly #groupTimers = new Map<string, Timer>();
  readonly #parkedGroups = new Map<string, Set<string>>();
  readonly #parkedGroupSet = new Set<string>();

  constructor(
    readonly key: string,
    public meta: LaneMeta,
    public settings: LaneSettings,
    readonly hooks: LaneHooks,
  ) {}

  get parked(): boolean {
    return this.#parkedJobs.size > 0 || this.#parkedGroups.size > 0;
  }

  add(job: Job): void {
    this.size++;
    this.#place(job);
  }

  /** The next job to deliver, or undefined when none is ready or `concurrency` is reached. */
  take(): Job | undefined {
    while (this.inFlight < this.settings.concurrency) {
      const job = this.settings.fifo ? this.#nextGroupHead() : this.#ready.shift();
      if (!job) return undefined;
      if (!this.hooks.isCallable(job.functionId)) {
        this.#park(job);
        continue;
      }
      if (this.settings.fifo) {
        this.#groups.get(groupOf(job))!.shift();
        this.#runningGroups.add(groupOf(job));
      }
      this.#running.add(job);
      this.inFlight++;
      return job;
    }
    return undefined;
  }

  /** The job was acknowledged or dead-lettered: it leaves the lane. */
  complete(job: Job): void {
    this.#settle(job);
    this.size--;
    if (this.settings.fifo) this.#makeRunnable(groupOf(job));
  }

  /** The job failed and will be retried at `job.availableAt`; a fifo group stays blocked until then. */
  retry(job: Job): void {
    this.#settle(job);
    this.#requeueFirst(job);
  }

  /** The job's target vanished while it was being called: park it without spending a retry. */
  parkAgain(job: Job): void {
    this.#settle(job);
    if (this.settings.fifo) {
      this.#groupQueue(groupOf(job)).unshift(job);
      this.#parkGroup(groupOf(job), job.functionId);
    } else {
      this.#parkJob(job);
    }
  }

  /** Releases parked jobs whose target is now registered. */
  unpark(): void {
    let released = false;
    for (const [functionId, jobs] of this.#parkedJobs) {
      if (!this.hooks.isCallable(functionId)) continue;
      this.#parkedJobs.delete(functionId);
      for (let i = jobs.length - 1; i >= 0; i--) this.#ready.unshift(jobs[i]!);
      released = true;
    }
    for (const [functionId, groups] of this.#parkedGroups) {
      if (!this.hooks.isCallable(functionId)) continue;
      this.#parkedGroups.delete(functionId);
      for (const group of groups) {
        this.#parkedGroupSet.delete(group);
        this.#makeRunnable(group);
      }
    }
    if (released) this.hooks.onReady(this);
  }

  /**
   * Applies new settings. Switching between standard and fifo re-sorts the waiting jobs into the
   * new structure; jobs already in flight finish under the old order.
   */
  reconfigure(meta: LaneMeta, settings: LaneSettings): void {
    const modeChanged = settings.fifo !== this.settings.fifo;
    this.meta = meta;
    if (!modeChanged) {
      this.settings = settings;
      this.hooks.onReady(this);
      return;
    }
    const waiting = this.#drainWaiting();
    this.settings = settings;
    if (settings.fifo) for (const job of this.#running) this.#runningGroups.add(groupOf(job));
    for (const job of waiting.sort((a, b) => a.seq - b.seq)) this.#place(job);
    this.hooks.onReady(this);
  }

  /** Drops every job that is not in flight (their broker delivers them again); returns how many. */
  clearWaiting(): number {
    const running = [...this.#running];
    const dropped = this.#drainWaiting().length;
    this.size -= dropped;
    if (this.settings.fifo) for (const job of running) this.#runningGroups.add(groupOf(job));
    return dropped;
  }

  dispose(): void {
    for (const timer of this.#delayed.values()) clearTimeout(timer);
    for (const timer of this.#groupTimers.values()) clearTimeout(timer);
    this.#delayed.clear();
    this.#groupTimers.clear();
  }

  // ---- internals

  #place(job: Job): void {
    if (this.settings.fifo) {
      const group = groupOf(job);
      const queue = this.#groupQueue(group);
      queue.push(job);
      if (queue.length === 1) this.#makeRunnable(group);
    } else if (job.availableAt > Date.now()) {
      this.#delay(job);
    } else {
      this.#ready.push(job);
      this.hooks.onReady(this);
    }
  }

  #requeueFirst(job: Job): void {
    if (this.settings.fifo) {
      const group = groupOf(job);
      this.#groupQueue(group).unshift(job);
      this.#makeRunnable(group);
    } else {
      this.#delay(job);
    }
  }

  #settle(job: Job): void {
    this.#running.delete(job);
    this.inFlight--;
    if (this.settings.fifo) this.#runningGroups.delete(groupOf(job));
  }

  #delay(job: Job): void {
    const timer = setTimeout(() => {
      this.#delayed.delete(job);
      this.#ready.push(job);
      this.hooks.onReady(this);
    }, job.availableAt - Date.now());
    timer.unref();
    this.#delayed.set(job, timer);
  }

  #nextGroupHead(): Job | undefined {
    for (;;) {
      const group = this.#runnable.shift();
      if (group === undefined) return undefined;
      this.#runnableSet.delete(group);
      const head = this.#groups.get(group)?.peek();
      if (head) return head;
    }
  }

  /** Queues a fifo group for delivery if it is idle, not parked, and its head is due. */
  #makeRunnable(group: string): void {
    if (this.#runningGroups.has(group) || this.#runnableSet.has(group)) return;
    if (this.#groupTimers.has(group) || this.#parkedGroupSet.has(group)) return;
    const queue = this.#groups.get(group);
    const head = queue?.peek();
    if (!head) {
      this.#groups.delete(group);
      return;
    }
    const wait = head.availableAt - Date.now();
    if (wait > 0) {
      const timer = setTimeout(() => {
        this.#groupTimers.delete(group);
        this.#makeRunnable(group);
      }, wait);
      timer.unref();
      this.#groupTimers.set(group, timer);
      return;
    }
    this.#runnable.push(group);
    this.#runnableSet.add(group);
    this.hooks.onReady(this);
  }

  #park(job: Job): void {
    if (this.settings.fifo) this.#parkGroup(groupOf(job), job.functionId);
    else this.#parkJob(job);
  }

  #parkJob(job: Job): void {
    const jobs = this.#parkedJobs.get(job.functionId);
    if (jobs) jobs.push(job);
    else this.#parkedJobs.set(job.functionId, [job]);
  }

  #parkGroup(group: string, functionId: string): void {
    this.#parkedGroupSet.add(group);
    const groups = this.#parkedGroups.get(functionId);
    if (groups) groups.add(group);
    else this.#parkedGroups.set(functionId, new Set([group]));
  }

  #groupQueue(group: string): Deque<Job> {
    let queue = this.#groups.get(group);
    if (!queue) {
      queue = new Deque<Job>();
      this.#groups.set(group, queue);
    }
    return queue;
  }

  /** Removes every job that is not in flight from every structure and returns them. */
  #drainWaiting(): Job[] {
    const jobs: Job[] = [...this.#ready.toArray(), ...this.#delayed.keys()];
    for (const parked of this.#parkedJobs.values()) jobs.push(...parked);
    for (const queue of this.#groups.values()) jobs.push(...queue.toArray());
    this.dispose();
    this.#ready.clear();
    this.#parkedJobs.clear();
    this.#groups.clear();
    this.#runnable.clear();
    this.#runnableSet.clear();
    this.#runningGroups.clear();
    this.#parkedGroups.clear();
    this.#parkedGroupSet.clear();
    return jobs;
  }
}

/** Standard lanes have no groups; in fifo lanes a job without a group value shares group ''. */
function groupOf(job: Job): string {
  return job.groupKey ?? '';
}
