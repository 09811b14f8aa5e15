import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { claimOnce, claimScheduledRun, LEASE_SCOPE, Leases } from '@iii-harness/runtime';
import { connectClient, type DevEngine, eventually, startDevEngine, type TestClient } from '../src/index.js';

/**
 * The runtime's lease helper against a real dev engine, each contender on its own connection (as
 * copies of a worker on several engines sharing one state store would be): one winner per claim,
 * one holder at a time under contention, expiry after a holder is SIGKILLed.
 */

const PACKAGES = join(__dirname, '..', '..');

let engine: DevEngine;
let clients: TestClient[];

beforeAll(async () => {
  engine = await startDevEngine();
  clients = await Promise.all([1, 2, 3].map((i) => connectClient(engine.url, `lease-test-${i}`)));
}, 60_000);

afterAll(async () => {
  await Promise.all((clients ?? []).map((c) => c.close()));
  await engine?.close();
});

const bus = (i: number) => clients[i % clients.length]!.bus;
let n = 0;
const fresh = (what: string) => `${what}-${++n}-${Date.now()}`;

describe('claimOnce', () => {
  it('gives a key to exactly one of many concurrent claimants, on any connection', async () => {
    for (let round = 0; round < 5; round++) {
      const key = fresh('once');
      const wins = await Promise.all(Array.from({ length: 12 }, (_, i) => claimOnce(bus(i), LEASE_SCOPE, key)));
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await claimOnce(bus(0), LEASE_SCOPE, key)).toBe(false);
    }
  });
});

describe('claimScheduledRun', () => {
  const tick = (at: Date) => ({ trigger: 'cron', job_id: 'x', scheduled_time: at.toISOString(), actual_time: '' });

  it('lets one copy run each scheduled run, and every copy run a call made by hand', async () => {
    const job = fresh('job');
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const first = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => claimScheduledRun(bus(i), job, tick(at))));
    expect(first.filter(Boolean)).toHaveLength(1);
    const next = await Promise.all(
      [0, 1, 2].map((i) => claimScheduledRun(bus(i), job, tick(new Date(at.getTime() + 15_000)))),
    );
    expect(next.filter(Boolean)).toHaveLength(1);
    // Another job's run at the same time is its own.
    expect(await claimScheduledRun(bus(0), fresh('other-job'), tick(at))).toBe(true);
    for (const manual of [{}, null, { scheduled_time: 'not a time' }])
      expect(await claimScheduledRun(bus(0), job, manual)).toBe(true);
  });

  it('forgets runs older than the retention, so the record stays small', async () => {
    const job = fresh('job');
    const old = new Date(Date.now() - 60_000);
    expect(await claimScheduledRun(bus(0), job, tick(old), { retentionMs: 30_000 })).toBe(true);
    const record = async () => Object.keys((await bus(0).state.get<object>(LEASE_SCOPE, `cron:${job}`)) ?? {});
    expect(await record()).toEqual([old.toISOString()]);
    const now = new Date();
    expect(await claimScheduledRun(bus(1), job, tick(now), { retentionMs: 30_000 })).toBe(true);
    expect(await record()).toEqual([now.toISOString()]);
  });
});

const leasesOf = (i: number) => new Leases(bus(i), `holder-${i}`);

describe('Leases', () => {
  it('has one holder at a time: concurrent claimants, one winner; released, the next one gets it', async () => {
    for (let round = 0; round < 5; round++) {
      const name = fresh('lease');
      const won = await Promise.all(
        Array.from({ length: 8 }, (_, i) => leasesOf(i).tryAcquire(name, { ttlMs: 10_000 })),
      );
      const holders = won.filter((lease) => lease !== null);
      expect(holders).toHaveLength(1);
      const holder = holders[0]!;
      expect((await leasesOf(0).read(name)).term?.holder).toBe(holder.holder);
      expect(await leasesOf(1).tryAcquire(name, { ttlMs: 10_000 })).toBeNull();
      await holder.release();
      expect(holder.held).toBe(false);
      // Released, it is free at once: the losers' claims do not hold it up.
      const next = await leasesOf(2).tryAcquire(name, { ttlMs: 10_000 });
      expect(next?.holder).toBe('holder-2');
      expect(next!.ticket).toBeGreaterThan(holder.ticket);
      await next!.release();
    }
  });

  it('serializes read-modify-write critical sections across connections (no lost update, no overlap)', async () => {
    const name = fresh('counter');
    let inside = 0;
    let overlaps = 0;
    const worker = async (i: number) => {
      const leases = leasesOf(i);
      for (let done = 0; done < 4; ) {
        const result = await leases.run(name, { ttlMs: 5_000, waitMs: 20_000 }, async () => {
          inside++;
          if (inside > 1) overlaps++;
          const value = (await bus(i).state.get<number>('lease_test', name)) ?? 0;
          await new Promise((resolve) => setTimeout(resolve, 5));
          await bus(i).state.set('lease_test', name, value + 1);
          inside--;
        });
        if (result.ran) done++;
      }
    };
    await Promise.all([0, 1, 2, 3, 4, 5].map(worker));
    expect(overlaps).toBe(0);
    expect(await bus(0).state.get('lease_test', name)).toBe(24);
  }, 120_000);

  it('renews while held; once expired, another claimant gets it and the old holder learns it lost', async () => {
    const name = fresh('expiry');
    const a = await leasesOf(0).tryAcquire(name, { ttlMs: 600 });
    expect(a).not.toBeNull();
    expect(await a!.renew()).toBe(true);
    expect(await leasesOf(1).tryAcquire(name, { ttlMs: 600 })).toBeNull();
    // a stops renewing; b gets it after the expiry.
    const b = await leasesOf(1).acquire(name, { ttlMs: 10_000, waitMs: 10_000 });
    expect(b?.holder).toBe('holder-1');
    expect(await a!.renew()).toBe(false);
    expect(a!.signal.aborted).toBe(true);
    expect((await leasesOf(2).read(name)).term?.holder).toBe('holder-1');
    // a's failed renewal did not take the term back or block b.
    expect(await b!.renew()).toBe(true);
    await a!.release(); // a no-op for b
    expect((await leasesOf(2).read(name)).busy).toBe(true);
    await b!.release();
  }, 30_000);

  it('lets another process renew and release a term it knows the ticket of', async () => {
    const name = fresh('resumed');
    const won = await leasesOf(0).tryAcquire(name, { ttlMs: 10_000 });
    const elsewhere = await leasesOf(1).resume(name, won!.ticket, { ttlMs: 10_000 });
    expect(elsewhere?.holder).toBe('holder-0');
    expect(await elsewhere!.renew()).toBe(true);
    await elsewhere!.release();
    expect((await leasesOf(2).read(name)).busy).toBe(false);
    expect(await leasesOf(1).resume(name, won!.ticket, { ttlMs: 10_000 })).toBeNull();
    const next = await leasesOf(2).tryAcquire(name, { ttlMs: 10_000 });
    expect(await won!.renew()).toBe(false);
    expect(await leasesOf(1).resume(name, won!.ticket, { ttlMs: 10_000 })).toBeNull();
    await next!.release();
  });

  it('keeps a lease alive past its TTL while the work runs', async () => {
    const name = fresh('alive');
    const result = await leasesOf(0).run(name, { ttlMs: 300 }, async (signal) => {
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      expect(await leasesOf(1).tryAcquire(name, { ttlMs: 300 })).toBeNull();
      return signal.aborted;
    });
    expect(result).toEqual({ ran: true, value: false });
    expect((await leasesOf(1).read(name)).busy).toBe(false);
  }, 30_000);
});

/** Build the runtime's dist when older than its source: the child process runs plain node. */
function buildIfStale(pkg: string): void {
  const dir = join(PACKAGES, pkg);
  const newest = (d: string): number =>
    Math.max(
      0,
      ...readdirSync(d).map((name) => {
        const stat = statSync(join(d, name));
        return stat.isDirectory() ? newest(join(d, name)) : stat.mtimeMs;
      }),
    );
  const built = join(dir, 'dist', 'index.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(dir, 'src'))) return;
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.lib.json', '--noCheck'], {
    cwd: dir,
    stdio: 'pipe',
  });
}

describe('a holder killed with SIGKILL', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('blocks others only until its term expires', async () => {
    buildIfStale('types');
    buildIfStale('runtime');
    const name = fresh('killed');
    const ttlMs = 1_500;
    child = spawn(process.execPath, [join(__dirname, 'fixtures', 'hold-lease.mjs'), engine.url, name, String(ttlMs)], {
      env: { ...process.env, OTEL_ENABLED: 'false' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout?.on('data', (chunk) => (out += String(chunk)));
    await eventually(
      () => {
        if (!out.includes('held')) throw new Error('the child does not hold the lease yet');
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
    // Held and kept alive well past its TTL by the child.
    await new Promise((resolve) => setTimeout(resolve, ttlMs * 2));
    expect(await leasesOf(0).tryAcquire(name, { ttlMs })).toBeNull();
    child.kill('SIGKILL');
    const lease = await leasesOf(0).acquire(name, { ttlMs: 10_000, waitMs: 30_000 });
    expect(lease?.holder).toBe('holder-0');
    expect((await leasesOf(1).read(name)).term?.ticket).toBe(lease!.ticket);
    await lease!.release();
  }, 90_000);
});
