import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { BudgetDeps } from './context.js';
import { amountOf, holdKeysWithPrefix } from './counters.js';
import { foldLog, genPrefix, lastAccepted, type ReservationView } from './reservation-log.js';
import { minuteOf } from './reserve.js';
import { applySettlement, releaseGeneration } from './settle.js';
import type { OpenEntry } from './store.js';
import { counterKey, windowOf } from './usage.js';

/**
 * The sweeper: every replica runs it on a timer (and `budget::sweep` runs it once). Its work
 * list is `budget_open`: one entry per owner generation that may hold something. For each it
 * reads the reservation's log and does what the log says is owed — all of it idempotent, so two
 * replicas sweeping at once, or a sweep racing a late commit, change nothing twice:
 *   - owner still reserving, younger than reserve_timeout_ms → leave it;
 *   - owner reserving for longer → append `abandon` (it can no longer grant), give its holds back;
 *   - granted and past its expiry → append `expire`; whichever settlement won is applied;
 *   - settled → apply the settlement where a hold is left (a commit that died half-way);
 *   - refused, abandoned, or owned by a newer generation → give this generation's holds back;
 *   - the record is gone (collected) → the holds are charged in full: the call may have happened.
 * Then it folds settled charges into their counters' totals (counters.ts) and deletes
 * reservation records older than record_retention_ms, by creation minute.
 */

type Outcome = 'kept' | 'expired' | 'released' | 'completed';

export interface SweepCounts {
  expired: number;
  released: number;
  completed: number;
  folded: number;
  collected: number;
}

export const sweepHandler = (deps: BudgetDeps) =>
  (async () => sweep(deps)) satisfies Handler<typeof contracts.budget.sweep>;

export async function sweep(deps: BudgetDeps): Promise<SweepCounts> {
  const counts: SweepCounts = { expired: 0, released: 0, completed: 0, folded: 0, collected: 0 };
  const now = deps.now();
  // An owner younger than reserve_timeout_ms is still working, or its caller is about to retry:
  // leave it to them.
  const due = (await deps.store.listOpen()).filter((e) => now - e.at > deps.config.reserve_timeout_ms);
  for (const entry of due) {
    try {
      const outcome = await sweepOpen(deps, entry);
      if (outcome !== 'kept') counts[outcome] += 1;
    } catch (error) {
      deps.logger.error({ err: error, reservation_id: entry.rid }, 'sweeping a reservation failed');
    }
  }
  counts.folded = await foldCounters(deps).catch((error) => {
    deps.logger.error({ err: error }, 'folding counters failed');
    return 0;
  });
  counts.collected = await collectRecords(deps);
  return counts;
}

/**
 * Fold the settlements of every budget's current and previous period into its totals once they
 * are older than reserve_timeout_ms (long after any retry or sweeper could still be writing them).
 */
async function foldCounters(deps: BudgetDeps): Promise<number> {
  const now = deps.now();
  let folded = 0;
  for (const budget of await deps.store.listBudgets()) {
    const current = windowOf(budget, now);
    const keys = [counterKey(budget, current)];
    if (current.end !== null) keys.push(counterKey(budget, windowOf(budget, current.start - 1)));
    for (const key of keys) folded += await deps.counters.fold(key, now, deps.config.reserve_timeout_ms);
  }
  return folded;
}

async function sweepOpen(deps: BudgetDeps, entry: OpenEntry): Promise<Outcome> {
  const { rid, gen } = entry;
  const log = await deps.store.getLog(rid);
  if (!log) {
    await chargeOrphans(deps, entry);
    await deps.store.deleteOpen(rid, gen);
    return 'expired';
  }
  let view = foldLog(log);
  const now = deps.now();
  if (view.phase === 'owned' && view.gen === gen) {
    if (now - (view.claim?.at ?? entry.at) <= deps.config.reserve_timeout_ms) return 'kept';
    view = foldLog(await deps.store.append(rid, { type: 'abandon', at: now, gen }));
  }
  if (view.phase === 'granted' && view.grantGen === gen) {
    if (now <= view.grant!.expires_at) return 'kept';
    view = foldLog(await deps.store.append(rid, { type: 'expire', at: now }));
    const expiredNow = lastAccepted(view);
    await finish(deps, entry, view);
    return expiredNow ? 'expired' : 'completed';
  }
  if (view.phase === 'settled' && view.grantGen === gen) {
    await finish(deps, entry, view);
    return 'completed';
  }
  await releaseGeneration(deps, rid, gen, entry.counters);
  await deps.store.deleteOpen(rid, gen);
  return 'released';
}

/** A settled grant: its charge applied where still held, its failed attempts given back. */
async function finish(deps: BudgetDeps, entry: OpenEntry, view: ReservationView): Promise<void> {
  await applySettlement(deps, view, { onlyIfHeld: true });
  await releaseGeneration(deps, entry.rid, entry.gen, entry.counters, view.grant!.ns);
  await deps.store.deleteOpen(entry.rid, entry.gen);
}

/** Holds whose reservation record is gone: nobody can say the call did not happen, so charge them. */
async function chargeOrphans(deps: BudgetDeps, entry: OpenEntry): Promise<void> {
  for (const key of entry.counters) {
    const doc = await deps.counters.get(key);
    for (const holdKey of holdKeysWithPrefix(doc, genPrefix(entry.rid, entry.gen))) {
      const hold = amountOf(doc?.[holdKey])!;
      await deps.counters.settle(key, holdKey.slice(2), { u: hold.u, t: hold.t, at: deps.now() });
      deps.logger.warn({ reservation_id: entry.rid, counter: key }, 'orphaned hold charged in full');
    }
  }
}

const MINUTE = 60_000;
const MAX_MINUTES_PER_SWEEP = 120;

/** Delete reservation records whose creation minute ended more than the retention ago. */
async function collectRecords(deps: BudgetDeps): Promise<number> {
  const cutoff = deps.now() - deps.config.record_retention_ms;
  const lastMinute = minuteOf(cutoff) - MINUTE; // the newest minute wholly older than the cutoff
  let minute = (await deps.store.gcCursor()) ?? lastMinute - 24 * 60 * MINUTE;
  let collected = 0;
  for (let n = 0; minute <= lastMinute && n < MAX_MINUTES_PER_SWEEP; n++, minute += MINUTE) {
    const rids = await deps.store.createdIn(minute);
    await Promise.all(
      rids.map(async (rid) => {
        await deps.store.deleteReservation(rid);
        await deps.store.forgetCreated(rid, minute);
      }),
    );
    collected += rids.length;
    await deps.store.setGcCursor(minute + MINUTE);
  }
  return collected;
}
