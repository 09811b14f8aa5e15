import type { Handler } from '@iii-harness/runtime';
import type { Budget, BudgetUsage, contracts } from '@iii-harness/types';
import type { BudgetDeps } from './context.js';
import { totalsOf } from './counters.js';
import { type PeriodWindow, periodAt } from './periods.js';

/** The period of a budget containing `at`. */
export const windowOf = (budget: Budget, at: number): PeriodWindow =>
  periodAt(budget.period, budget.time_zone, at, budget.epoch_started_at);

/** The counter of a budget for one period: a new epoch (reset) or period starts a new one. */
export const counterKey = (budget: Budget, window: PeriodWindow) => `${budget.budget_id}~${budget.epoch}~${window.key}`;

export async function usageOf(deps: BudgetDeps, budget: Budget, at: number): Promise<BudgetUsage> {
  const window = windowOf(budget, at);
  const totals = totalsOf(await deps.counters.get(counterKey(budget, window)));
  const left = (spent: number, reserved: number, cap: number) => Math.max(0, cap - spent - reserved);
  return {
    budget_id: budget.budget_id,
    scope: budget.scope,
    period: budget.period,
    period_start: window.start,
    period_end: window.end,
    period_label: window.label,
    ...(budget.cap_micro_usd === undefined ? {} : { cap_micro_usd: budget.cap_micro_usd }),
    ...(budget.cap_tokens === undefined ? {} : { cap_tokens: budget.cap_tokens }),
    ...totals,
    ...(budget.cap_micro_usd === undefined
      ? {}
      : { remaining_micro_usd: left(totals.spent_micro_usd, totals.reserved_micro_usd, budget.cap_micro_usd) }),
    ...(budget.cap_tokens === undefined
      ? {}
      : { remaining_tokens: left(totals.spent_tokens, totals.reserved_tokens, budget.cap_tokens) }),
  };
}

export const budgetUsageHandler = (deps: BudgetDeps) =>
  (async ({ budget_id, scopes, at }) => {
    const budgets = budget_id ? [await deps.store.requireBudget(budget_id)] : await deps.store.budgetsCovering(scopes!);
    const when = at ?? deps.now();
    return { usage: await Promise.all(budgets.map((b) => usageOf(deps, b, when))) };
  }) satisfies Handler<typeof contracts.budget.usage>;

const HOUR = 3_600_000;

/**
 * Spend so far divided by the time elapsed in the period, carried to the period's end. With a
 * cap, `exhausts_at` is when that rate reaches it (null if not before the period ends).
 */
export const forecast = (deps: BudgetDeps) =>
  (async ({ budget_id }) => {
    const budget = await deps.store.requireBudget(budget_id);
    const now = deps.now();
    const usage = await usageOf(deps, budget, now);
    // A budget created (or reset) during the period has only spent since then.
    const elapsed = Math.max(1, now - Math.max(usage.period_start, budget.epoch_started_at));
    const project = (spent: number) =>
      usage.period_end === null ? null : Math.floor(spent + (spent * Math.max(0, usage.period_end - now)) / elapsed);
    const exhaustion = (spent: number, cap: number | undefined) => {
      if (cap === undefined || spent === 0) return null;
      const at = spent >= cap ? now : now + Math.ceil(((cap - spent) * elapsed) / spent);
      return usage.period_end !== null && at >= usage.period_end ? null : at;
    };
    const candidates = [
      exhaustion(usage.spent_micro_usd, budget.cap_micro_usd),
      exhaustion(usage.spent_tokens, budget.cap_tokens),
    ].filter((t): t is number => t !== null);
    const exhausts_at = candidates.length ? Math.min(...candidates) : null;
    return {
      budget_id,
      period_start: usage.period_start,
      period_end: usage.period_end,
      spent_micro_usd: usage.spent_micro_usd,
      spent_tokens: usage.spent_tokens,
      rate_micro_usd_per_hour: Math.floor((usage.spent_micro_usd * HOUR) / elapsed),
      rate_tokens_per_hour: Math.floor((usage.spent_tokens * HOUR) / elapsed),
      projected_micro_usd: project(usage.spent_micro_usd),
      projected_tokens: project(usage.spent_tokens),
      exhausts_at,
      // A `total` budget has no end to project to: it is on track until a cap is reached.
      on_track: usage.period_end === null ? exhausts_at === null || exhausts_at > now : exhausts_at === null,
    };
  }) satisfies Handler<typeof contracts.budget.forecast>;
