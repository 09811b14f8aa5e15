import { type Handler, HarnessError } from '@iii-harness/runtime';
import type { contracts, SettleResult } from '@iii-harness/types';
import { raiseAlerts } from './alerts.js';
import type { BudgetDeps } from './context.js';
import { holdKey, holdKeysWithPrefix } from './counters.js';
import { costMicroUsd, tokensOf } from './money.js';
import { foldLog, genPrefix, type LogEvent, lastAccepted, type ReservationView } from './reservation-log.js';

/**
 * `budget::commit` and `budget::release`. The first settlement appended to a granted
 * reservation's log wins (commit, release or the sweeper's expiry); every later one is a
 * duplicate and changes nothing. Whoever appends — winner or duplicate — then applies the
 * winner's settlement to each counter, which is idempotent (counters.ts), so a commit
 * interrupted half-way is finished by its redelivery or by the sweeper.
 */

export const commit = (deps: BudgetDeps) =>
  (async ({ reservation_id, usage }) =>
    settle(deps, reservation_id, { type: 'commit', at: deps.now(), ...(usage ? { usage } : {}) })) satisfies Handler<
    typeof contracts.budget.commit
  >;

export const release = (deps: BudgetDeps) =>
  (async ({ reservation_id }) => settle(deps, reservation_id, { type: 'release', at: deps.now() })) satisfies Handler<
    typeof contracts.budget.release
  >;

type SettleEvent = Extract<LogEvent, { type: 'commit' | 'release' | 'expire' }>;

export async function settle(deps: BudgetDeps, rid: string, event: SettleEvent): Promise<SettleResult> {
  const log = await deps.store.getLog(rid);
  if (!log) throw new HarnessError('not_found', `reservation ${rid} does not exist (or is older than the retention)`);
  let view = foldLog(log);
  if (view.phase === 'refused')
    throw new HarnessError('conflict', `reservation ${rid} was refused: there is nothing to settle`, {
      reason: 'reservation_refused',
    });
  if (view.phase !== 'granted' && view.phase !== 'settled')
    throw new HarnessError('conflict', `reservation ${rid} has not been granted`, {
      reason: 'reservation_not_granted',
    });
  let duplicate = true;
  if (view.phase === 'granted') {
    view = foldLog(await deps.store.append(rid, event));
    duplicate = !lastAccepted(view);
  }
  await applySettlement(deps, view, { onlyIfHeld: duplicate });
  if (!duplicate) await deps.store.deleteOpen(rid, view.grantGen!);
  return settleReply(rid, view, duplicate);
}

/** What the winning settlement charges: actual usage, the full reservation, or nothing. */
export function chargeOf(view: ReservationView): { micro_usd: number; tokens: number } {
  const grant = view.grant!;
  const settlement = view.settlement!;
  if (settlement.kind === 'release') return { micro_usd: 0, tokens: 0 };
  if (settlement.kind === 'commit' && settlement.usage)
    return { micro_usd: costMicroUsd(settlement.usage, grant.prices), tokens: tokensOf(settlement.usage) };
  return { micro_usd: grant.reserved_micro_usd, tokens: grant.reserved_tokens };
}

/** The charge as a counter key: stamped with the time it is written (folding waits a while after it). */
const chargeAmount = (view: ReservationView, now: number) => {
  const { micro_usd, tokens } = chargeOf(view);
  return { u: micro_usd, t: tokens, at: now };
};

/**
 * Turn the grant's hold into the winner's charge in every counter, then raise any alert the
 * charge crossed. `onlyIfHeld` reads each counter first and skips those already settled (for
 * duplicates and the sweeper, which usually find the work done).
 */
export async function applySettlement(
  deps: BudgetDeps,
  view: ReservationView,
  { onlyIfHeld }: { onlyIfHeld: boolean },
): Promise<void> {
  const grant = view.grant!;
  const charge = chargeAmount(view, deps.now());
  await Promise.all(
    grant.entries.map(async (entry) => {
      if (onlyIfHeld) {
        const doc = await deps.counters.get(entry.counter_key);
        if (!doc || !Object.hasOwn(doc, holdKey(grant.ns))) return;
      }
      const result = await deps.counters.settle(entry.counter_key, grant.ns, charge);
      if (result.applied && charge.u + charge.t > 0)
        await raiseAlerts(deps, entry, result.after, result.doc).catch((error) =>
          deps.logger.error({ err: error, budget_id: entry.budget_id }, 'budget alert failed'),
        );
    }),
  );
}

/** Give back every hold of one owner generation except `keep` (a grant that still stands). */
export async function releaseGeneration(
  deps: BudgetDeps,
  rid: string,
  gen: number,
  counterKeys: string[],
  keep?: string,
): Promise<number> {
  let released = 0;
  await Promise.all(
    counterKeys.map(async (key) => {
      const doc = await deps.counters.get(key);
      const keys = holdKeysWithPrefix(doc, genPrefix(rid, gen)).filter((k) => k !== (keep && holdKey(keep)));
      released += keys.length;
      await deps.counters.release(key, keys);
    }),
  );
  return released;
}

const STATUS = { commit: 'committed', release: 'released', expire: 'expired' } as const;

export function settleReply(rid: string, view: ReservationView, duplicate: boolean): SettleResult {
  const grant = view.grant!;
  const charge = chargeOf(view);
  return {
    reservation_id: rid,
    status: STATUS[view.settlement!.kind],
    duplicate,
    cost_micro_usd: charge.micro_usd,
    tokens: charge.tokens,
    reserved_micro_usd: grant.reserved_micro_usd,
    overrun_micro_usd: Math.max(0, charge.micro_usd - grant.reserved_micro_usd),
    priced: grant.prices !== null,
  };
}
