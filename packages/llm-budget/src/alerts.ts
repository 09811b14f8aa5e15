import { BUDGET_ALERTS_STREAM, type BudgetAlertEvent } from '@iii-harness/types';
import type { BudgetDeps } from './context.js';
import type { Totals } from './counters.js';
import type { GrantEntry } from './reservation-log.js';
import { type Doc, scopeKey } from './store.js';

/**
 * `budget_alert` events: when settled spend reaches a threshold (percent of a cap), one stream
 * item on `budget::alerts` (group `<kind>:<scope id>`, item id = counter + metric + threshold).
 * Once per threshold per period: the settlement that crosses it claims the alert in the counter
 * (`increment`, exactly one claimant sees 1) and writes the item. A claimant that dies before
 * writing leaves the claim unsent; the next settlement on the same counter, a reserve timeout
 * later, writes it (the item id makes a second write an update of the same item).
 */
export async function raiseAlerts(deps: BudgetDeps, entry: GrantEntry, totals: Totals, doc: Doc): Promise<void> {
  const metrics = [
    { metric: 'usd' as const, cap: entry.cap_micro_usd, spent: totals.spent_micro_usd },
    { metric: 'tokens' as const, cap: entry.cap_tokens, spent: totals.spent_tokens },
  ];
  for (const { metric, cap, spent } of metrics) {
    if (cap === undefined) continue;
    for (const threshold of entry.alert_thresholds_pct) {
      if (spent * 100 < cap * threshold) break; // thresholds are sorted
      const marker = `${metric}~${threshold}`;
      if (doc[`sent~${marker}`] !== undefined) continue;
      const claimedAt = doc[`alerted_at~${marker}`];
      const claimed = doc[`alert~${marker}`] !== undefined;
      const stale = typeof claimedAt === 'number' && deps.now() - claimedAt > deps.config.reserve_timeout_ms;
      if (claimed && !stale) continue;
      if (!claimed && !(await deps.counters.claimAlert(entry.counter_key, marker, deps.now()))) continue;
      const event: BudgetAlertEvent = {
        type: 'budget_alert',
        budget_id: entry.budget_id,
        scope: entry.scope,
        period_label: entry.period_label,
        metric,
        threshold_pct: threshold,
        spent,
        cap,
        at: deps.now(),
      };
      await deps.store.bus.stream.set(
        BUDGET_ALERTS_STREAM,
        scopeKey(entry.scope),
        `${entry.counter_key}~${marker}`,
        event,
      );
      await deps.counters.markAlertSent(entry.counter_key, marker);
      deps.logger.info({ budget_id: entry.budget_id, metric, threshold_pct: threshold }, 'budget alert');
    }
  }
}
