import { type Bus, versionedRecord } from '@iii-harness/runtime';
import { z } from 'zod';

/**
 * One compaction per session at a time, across every replica of this worker. The engine has no
 * compare-and-set, so the lease is built from its atomic `state::update`: a claimant that finds
 * the lease free increments `epoch`, and only the one whose increment lands on the epoch it saw
 * plus one wins; it then writes its expiry. The increment also stamps `claimed_at`, so a winner
 * that dies between its two writes blocks others only for `CLAIM_GRACE_MS`. A holder renews
 * while it works; one that dies (SIGKILL) lets the lease expire after `ttl`.
 */

const CLAIM_GRACE_MS = 5_000;

const leaseRecord = z
  .object({
    epoch: z.number().int().default(0),
    claimed_at: z.number().default(0),
    holder_epoch: z.number().int().default(0),
    holder: z.string().optional(),
    expires_at: z.number().default(0),
  })
  .loose();
type LeaseRecord = z.output<typeof leaseRecord>;
/**
 * The lease carries a version `v` (set by the claim that creates it). One written before the field
 * existed is version 1, today's shape; one of a newer version is refused
 * (`unavailable/unsupported_record_version`): this worker must not take a lease it cannot read.
 */
const leaseVersions = versionedRecord({
  what: 'compaction lease',
  current: 1,
  unversioned: 1,
  schema: leaseRecord,
  migrations: {},
});
/** A stored lease (absent: a free one) in the current shape. */
const readLease = (value: unknown, where: string): LeaseRecord => leaseVersions.read(value ?? {}, where);

export const leaseKey = (sessionId: string) => `lease:${sessionId}`;

/** Held: a live holder, or a claim whose holder has not written its expiry yet. */
export function isHeld(record: LeaseRecord, now: number): boolean {
  const claimInFlight = record.epoch > record.holder_epoch && record.claimed_at + CLAIM_GRACE_MS > now;
  return record.expires_at > now || claimInFlight;
}

export class Leases {
  constructor(
    private readonly bus: Bus,
    private readonly scope: string,
    private readonly ttlMs: number,
  ) {}

  async read(sessionId: string): Promise<LeaseRecord> {
    const key = leaseKey(sessionId);
    return readLease(await this.bus.state.get(this.scope, key), `${this.scope}/${key}`);
  }

  /** The lease, or null when another holder has it. */
  async tryAcquire(sessionId: string, holder: string): Promise<Lease | null> {
    const key = leaseKey(sessionId);
    const seen = await this.read(sessionId);
    const now = Date.now();
    if (isHeld(seen, now)) return null;
    const { new_value } = await this.bus.state.update<Partial<LeaseRecord>>(this.scope, key, [
      { type: 'increment', path: 'epoch', by: 1 },
      { type: 'set', path: 'claimed_at', value: now },
      { type: 'set', path: 'v', value: leaseVersions.current },
    ]);
    const epoch = new_value.epoch ?? 0;
    if (epoch !== seen.epoch + 1) return null;
    await this.bus.state.update(this.scope, key, [
      { type: 'set', path: 'holder_epoch', value: epoch },
      { type: 'set', path: 'holder', value: holder },
      { type: 'set', path: 'expires_at', value: Date.now() + this.ttlMs },
    ]);
    return new Lease(this.bus, this.scope, key, epoch, holder, this.ttlMs);
  }

  /** Try until `waitMs` has passed (polling with back-off up to 250 ms). */
  async acquire(sessionId: string, holder: string, waitMs: number): Promise<Lease | null> {
    const deadline = Date.now() + waitMs;
    let delay = 20;
    for (;;) {
      const lease = await this.tryAcquire(sessionId, holder);
      if (lease || Date.now() >= deadline) return lease;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(1, deadline - Date.now()))));
      delay = Math.min(delay * 2, 250);
    }
  }
}

export class Lease {
  private readonly timer: NodeJS.Timeout;
  private lost = false;
  private released = false;
  /** Renewals and the release run one after the other, so no renewal lands after the release. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly bus: Bus,
    private readonly scope: string,
    private readonly key: string,
    readonly epoch: number,
    readonly holder: string,
    private readonly ttlMs: number,
  ) {
    this.timer = setInterval(() => void this.renew().catch(() => undefined), Math.max(50, Math.floor(ttlMs / 3)));
    this.timer.unref();
  }

  /** Still ours: not released, not expired, nobody took it over. */
  async held(): Promise<boolean> {
    if (this.lost || this.released) return false;
    const record = readLease(await this.bus.state.get(this.scope, this.key), `${this.scope}/${this.key}`);
    this.lost = record.holder_epoch !== this.epoch || record.expires_at <= Date.now();
    return !this.lost;
  }

  renew(): Promise<void> {
    return this.serial(async () => {
      if (!(await this.held())) return;
      await this.bus.state.update(this.scope, this.key, [
        { type: 'set', path: 'expires_at', value: Date.now() + this.ttlMs },
      ]);
    });
  }

  release(): Promise<void> {
    clearInterval(this.timer);
    return this.serial(async () => {
      if (!(await this.held())) return;
      this.released = true;
      await this.bus.state.update(this.scope, this.key, [
        { type: 'set', path: 'expires_at', value: 0 },
        { type: 'set', path: 'claimed_at', value: 0 },
      ]);
    });
  }

  private serial(op: () => Promise<void>): Promise<void> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
