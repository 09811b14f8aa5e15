import type { Bus } from './bus.js';

/**
 * Mutual exclusion across every copy of a worker, on every engine sharing the state store. The
 * engine has no compare-and-set, only `state::update`, which applies its ops atomically and
 * returns the value they were applied to (`old_value`). So every decision here is made on the
 * `old_value` of the caller's own update — the exact state at the atomic moment — never on an
 * earlier read, which only decides whether to try at all.
 *
 * - `claimOnce`: the first of any number of callers to claim a key wins, forever (an increment
 *   whose new value is 1). `claimScheduledRun` builds "once per scheduled run" on it, for crons
 *   that every copy registers.
 * - `Leases`: a lease with an expiry, renewed while held, so a holder killed with SIGKILL stops
 *   blocking others after its TTL. One record per lease name:
 *
 *     { tickets, claimed_at, "term:<ticket>": {holder, expires_at}, ... }
 *
 *   A claimant that finds the lease free takes a ticket (`increment tickets`, stamping
 *   `claimed_at`) and wins when, in that update's `old_value`, the lease was free: no live term
 *   and no claim in flight (a ticket newer than the newest term, stamped less than `claimGraceMs`
 *   ago). The winner then writes its own term slot. Slots are per ticket, so nobody ever
 *   overwrites another holder's term; the newest slot is the current term. A holder renews by
 *   rewriting its slot and keeps the lease only if, in that update's `old_value`, its term was
 *   still the newest and not yet expired. A claimant wins only an expired term and a renewal only
 *   an unexpired one, so the two never both succeed (with clocks that agree well within the TTL).
 */

/** Default state scope of leases and claims (protected from agents by the harness's kernel). */
export const LEASE_SCOPE = 'harness_leases';

const TERM_PREFIX = 'term:';

interface Term {
  ticket: number;
  holder: string;
  expires_at: number;
}

type LeaseRecord = Record<string, unknown>;

const num = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function termsOf(record: LeaseRecord | null | undefined): Term[] {
  const terms: Term[] = [];
  for (const [field, value] of Object.entries(record ?? {})) {
    if (!field.startsWith(TERM_PREFIX) || typeof value !== 'object' || value === null) continue;
    const ticket = Number(field.slice(TERM_PREFIX.length));
    const { holder, expires_at } = value as Record<string, unknown>;
    if (Number.isInteger(ticket) && typeof holder === 'string')
      terms.push({ ticket, holder, expires_at: num(expires_at) });
  }
  return terms.sort((a, b) => b.ticket - a.ticket);
}

/** What a lease record says at `now`. */
export interface LeaseState {
  /** The newest term, live or not. */
  term?: Term;
  /** A live term, or a claim whose winner has not written its term yet. */
  busy: boolean;
}

export function leaseState(record: LeaseRecord | null | undefined, now: number, claimGraceMs: number): LeaseState {
  const term = termsOf(record)[0];
  const live = term !== undefined && term.expires_at > now;
  const inFlight = num(record?.tickets) > (term?.ticket ?? 0) && num(record?.claimed_at) + claimGraceMs > now;
  return { ...(term ? { term } : {}), busy: live || inFlight };
}

/** The first caller to claim `key` gets true; every later one (on any copy, any engine) false. */
export async function claimOnce(bus: Bus, scope: string, key: string): Promise<boolean> {
  const { new_value } = await bus.state.update<LeaseRecord>(scope, key, [
    { type: 'increment', path: 'claims', by: 1 },
    { type: 'set', path: 'claimed_at', value: Date.now() },
  ]);
  return num(new_value?.claims) === 1;
}

export interface ScheduledRunOptions {
  scope?: string;
  /** How long a run's claim is kept; a copy whose cron fires later than this runs again. */
  retentionMs?: number;
}

/**
 * Every copy of a worker registers its cron, so each scheduled run fires once per copy. Call this
 * first in the cron handler: true for exactly one copy per `scheduled_time` (the engine computes
 * it from the expression, so it is the same on every engine). A call without `scheduled_time`
 * (someone invoking the function by hand) always runs.
 */
export async function claimScheduledRun(
  bus: Bus,
  job: string,
  event: unknown,
  { scope = LEASE_SCOPE, retentionMs = 10 * 60_000 }: ScheduledRunOptions = {},
): Promise<boolean> {
  const scheduled = (event as { scheduled_time?: unknown } | null)?.scheduled_time;
  if (typeof scheduled !== 'string' || Number.isNaN(Date.parse(scheduled))) return true;
  const key = `cron:${job}`;
  const { new_value } = await bus.state.update<LeaseRecord>(scope, key, [
    { type: 'increment', path: scheduled, by: 1 },
  ]);
  if (num(new_value?.[scheduled]) !== 1) return false;
  // The winner forgets runs older than the retention, so the record stays small.
  const cutoff = Date.now() - retentionMs;
  const old = Object.keys(new_value ?? {}).filter((field) => field !== scheduled && Date.parse(field) < cutoff);
  if (old.length)
    await bus.state.update(
      scope,
      key,
      old.map((path) => ({ type: 'remove' as const, path })),
    );
  return true;
}

export interface LeaseOptions {
  /** How long a term lasts without renewal. */
  ttlMs: number;
  /** How long a won claim may take to write its term before others may claim again (default 2 s). */
  claimGraceMs?: number;
}

/** Leases of one holder (this process: use `worker.instanceId`) in one state scope. */
export class Leases {
  constructor(
    private readonly bus: Bus,
    readonly holder: string,
    private readonly scope: string = LEASE_SCOPE,
  ) {}

  /** The lease record's view: who holds `name`, until when, and whether it is busy. */
  async read(name: string, claimGraceMs = DEFAULT_CLAIM_GRACE_MS): Promise<LeaseState> {
    return leaseState(await this.bus.state.get<LeaseRecord>(this.scope, name), Date.now(), claimGraceMs);
  }

  /** The lease, or null when someone holds it (or won it at the same moment). */
  async tryAcquire(name: string, options: LeaseOptions): Promise<Lease | null> {
    const grace = options.claimGraceMs ?? DEFAULT_CLAIM_GRACE_MS;
    // Look before taking a ticket: a ticket taken while the lease is busy is a claim in flight
    // that would hold up the next claimant for the grace period after the holder releases.
    if ((await this.read(name, grace)).busy) return null;
    const claimedAt = Date.now();
    const claim = await this.bus.state.update<LeaseRecord>(this.scope, name, [
      { type: 'increment', path: 'tickets', by: 1 },
      { type: 'set', path: 'claimed_at', value: claimedAt },
    ]);
    const seen = leaseState(claim.old_value, Date.now(), grace);
    if (seen.busy) return null;
    const ticket = num(claim.new_value?.tickets);
    const expiresAt = Date.now() + options.ttlMs;
    const stale = termsOf(claim.old_value).map((t) => ({ type: 'remove' as const, path: `${TERM_PREFIX}${t.ticket}` }));
    // Written within the grace, no other claim can have won meanwhile: every later claimant lost
    // to ours, so its stamp is cleared rather than left to hold up the next claim after a release.
    const settle = Date.now() - claimedAt < grace ? [{ type: 'set' as const, path: 'claimed_at', value: 0 }] : [];
    const written = await this.bus.state.update<LeaseRecord>(this.scope, name, [
      { type: 'set', path: `${TERM_PREFIX}${ticket}`, value: { holder: this.holder, expires_at: expiresAt } },
      ...stale,
      ...settle,
    ]);
    // Too slow: a newer claim won after our grace ran out. Our slot is older than its, so ignored.
    if ((termsOf(written.old_value)[0]?.ticket ?? 0) > ticket) return null;
    return new Lease(this.bus, this.scope, name, ticket, this.holder, options.ttlMs, expiresAt);
  }

  /**
   * A term won elsewhere (another process, an earlier handler: a turn started by one copy and
   * finished by another), to renew or release it here. Null when it is no longer the current,
   * live term.
   */
  async resume(name: string, ticket: number, options: LeaseOptions): Promise<Lease | null> {
    const { term } = await this.read(name, options.claimGraceMs);
    if (!term || term.ticket !== ticket || term.expires_at <= Date.now()) return null;
    return new Lease(this.bus, this.scope, name, ticket, term.holder, options.ttlMs, term.expires_at);
  }

  /** Try until `waitMs` has passed, backing off from 20 ms to 250 ms. */
  async acquire(name: string, options: LeaseOptions & { waitMs: number }): Promise<Lease | null> {
    const deadline = Date.now() + options.waitMs;
    let delay = 20;
    for (;;) {
      const lease = await this.tryAcquire(name, options);
      if (lease || Date.now() >= deadline) return lease;
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
      delay = Math.min(delay * 2, 250);
    }
  }

  /**
   * Run `work` under the lease: acquired (waiting up to `waitMs`), renewed every third of its TTL
   * while `work` runs, released after. `signal` aborts when the lease is lost (a renewal found it
   * expired or taken), so `work` should stop writing. `{ran: false}` when it could not be had.
   */
  async run<T>(
    name: string,
    options: LeaseOptions & { waitMs?: number },
    work: (signal: AbortSignal, lease: Lease) => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const lease = await this.acquire(name, { ...options, waitMs: options.waitMs ?? 0 });
    if (!lease) return { ran: false };
    const stop = lease.keepAlive();
    try {
      return { ran: true, value: await work(lease.signal, lease) };
    } finally {
      stop();
      await lease.release().catch(() => undefined);
    }
  }
}

const DEFAULT_CLAIM_GRACE_MS = 2_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One held term. Renewals and the release run one after the other. */
export class Lease {
  private readonly controller = new AbortController();
  private released = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly bus: Bus,
    private readonly scope: string,
    readonly name: string,
    readonly ticket: number,
    readonly holder: string,
    private readonly ttlMs: number,
    private expiresAt: number,
  ) {}

  /** Aborts once the lease is known to be lost. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Held as far as this process knows: not released, not lost, not past its expiry. */
  get held(): boolean {
    return !this.released && !this.signal.aborted && Date.now() < this.expiresAt;
  }

  get expires(): number {
    return this.expiresAt;
  }

  /** Extend the term by the TTL; false (and the signal aborts) when it was lost. */
  renew(): Promise<boolean> {
    return this.serial(async () => {
      if (!this.held) return this.lose();
      const now = Date.now();
      const slot = `${TERM_PREFIX}${this.ticket}`;
      const { old_value } = await this.bus.state.update<LeaseRecord>(this.scope, this.name, [
        { type: 'set', path: slot, value: { holder: this.holder, expires_at: now + this.ttlMs } },
      ]);
      const current = termsOf(old_value)[0];
      if (current?.ticket !== this.ticket || current.expires_at <= now) {
        // Taken over, or expired before this renewal landed: someone may be claiming it. Our slot
        // is cleared so it does not hold up the lease for a holder that is no longer acting.
        if (current?.ticket === this.ticket) await this.clear(slot);
        return this.lose();
      }
      this.expiresAt = now + this.ttlMs;
      return true;
    });
  }

  /** Renew every third of the TTL until the returned function is called or the lease is lost. */
  keepAlive(intervalMs = Math.max(50, Math.floor(this.ttlMs / 3))): () => void {
    const timer = setInterval(() => {
      this.renew().then(
        (ok) => ok || clearInterval(timer),
        () => undefined, // a failed renewal is retried at the next tick; expiry aborts the signal
      );
    }, intervalMs);
    timer.unref();
    const abort = () => clearInterval(timer);
    this.signal.addEventListener('abort', abort, { once: true });
    return abort;
  }

  /** Give the lease up at once (only our own term slot is touched). */
  release(): Promise<void> {
    return this.serial(async () => {
      if (this.released) return;
      this.released = true;
      await this.clear(`${TERM_PREFIX}${this.ticket}`);
    });
  }

  private async clear(slot: string): Promise<void> {
    await this.bus.state.update(this.scope, this.name, [
      { type: 'set', path: slot, value: { holder: this.holder, expires_at: 0 } },
    ]);
  }

  private lose(): false {
    this.controller.abort(new Error(`lease ${this.name} lost`));
    return false;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
