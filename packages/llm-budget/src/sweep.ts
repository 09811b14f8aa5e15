import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { BudgetDeps } from './context.js';
import { holdKeysWithPrefix, holdOf } from './counters.js';
import { foldLog, genPrefix, lastAccepted, type ReservationView } from './reservation-log.js';
import { hourOf } from './reserve.js';
import { applySettlement, releaseGeneration } from './settle.js';
import type { OpenEntry } from './store.js';

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
 * Then it deletes reservation records older than record_retention_ms, by creation hour.
 */

type Outcome = 'kept' | 'expired' | 'released' | 'completed';

export interface SweepCounts {
  expired: number;
  released: number;
  completed: number;
  collected: number;
}

export const sweepHandler = (deps: BudgetDeps) =>
  (async () => sweep(deps)) satisfies Handler<typeof contracts.budget.sweep>;

export async function sweep(deps: BudgetDeps): Promise<SweepCounts> {
  const counts: SweepCounts = { expired: 0, released: 0, completed: 0, collected: 0 };
  const open = await deps.store.listOpen();
  for (const entry of open) {
    try {
      const outcome = await sweepOpen(deps, entry);
      if (outcome !== 'kept') counts[outcome] += 1;
    } catch (error) {
      deps.logger.error({ err: error, reservation_id: entry.rid }, 'sweeping a reservation failed');
    }
  }
  counts.collected = await collectRecords(deps);
  return counts;
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
      const hold = holdOf(doc?.[holdKey])!;
      await deps.counters.settle(key, holdKey.slice(2), { micro_usd: hold.u, tokens: hold.t });
      deps.logger.warn({ reservation_id: entry.rid, counter: key }, 'orphaned hold charged in full');
    }
  }
}

const HOUR = 3_600_000;
const MAX_HOURS_PER_SWEEP = 48;

/** Delete reservation records whose creation hour ended more than the retention ago. */
async function collectRecords(deps: BudgetDeps): Promise<number> {
  const cutoff = deps.now() - deps.config.record_retention_ms;
  const lastHour = hourOf(cutoff) - HOUR; // the newest hour bucket wholly older than the cutoff
  let hour = (await deps.store.gcCursor()) ?? lastHour - (MAX_HOURS_PER_SWEEP - 1) * HOUR;
  let collected = 0;
  for (let n = 0; hour <= lastHour && n < MAX_HOURS_PER_SWEEP; n++, hour += HOUR) {
    const rids = await deps.store.createdIn(hour);
    for (const rid of rids) await deps.store.deleteReservation(rid);
    collected += rids.length;
    await deps.store.dropHour(hour);
    await deps.store.setGcCursor(hour + HOUR);
  }
  return collected;
}
