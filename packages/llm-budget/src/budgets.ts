import { type Handler, HarnessError, type UpdateOp, uuidv7 } from '@iii-harness/runtime';
import type { Budget, contracts } from '@iii-harness/types';
import type { BudgetDeps } from './context.js';
import { readBudget } from './store.js';

/** Budgets themselves: create, read, change, delete. Usage lives in counters (usage.ts). */

export const createBudget = (deps: BudgetDeps) =>
  (async (input) => {
    const now = deps.now();
    const budget: Budget = {
      budget_id: uuidv7(now),
      ...(input.name === undefined ? {} : { name: input.name }),
      scope: input.scope,
      period: input.period,
      time_zone: input.time_zone ?? deps.config.time_zone,
      ...(input.cap_micro_usd === undefined ? {} : { cap_micro_usd: input.cap_micro_usd }),
      ...(input.cap_tokens === undefined ? {} : { cap_tokens: input.cap_tokens }),
      allow_unpriced: input.allow_unpriced,
      alert_thresholds_pct:
        input.alert_thresholds_pct ?? [...deps.config.default_alert_thresholds_pct].sort((a, b) => a - b),
      epoch: 0,
      epoch_started_at: now,
      created_at: now,
      updated_at: now,
    };
    // Index first: an index entry without a record is skipped, a record without an index entry would be missed.
    await deps.store.indexBudget(budget);
    await deps.store.putBudget(budget);
    return { budget };
  }) satisfies Handler<typeof contracts.budget.create>;

export const getBudget = (deps: BudgetDeps) =>
  (async ({ budget_id }) => ({ budget: await deps.store.requireBudget(budget_id) })) satisfies Handler<
    typeof contracts.budget.get
  >;

export const listBudgets = (deps: BudgetDeps) =>
  (async ({ scope }) => {
    const budgets = scope ? await deps.store.budgetsOfScope(scope) : await deps.store.listBudgets();
    budgets.sort((a, b) => a.created_at - b.created_at || (a.budget_id < b.budget_id ? -1 : 1));
    return { budgets };
  }) satisfies Handler<typeof contracts.budget.list>;

export const updateBudget = (deps: BudgetDeps) =>
  (async ({ budget_id, ...changes }) => {
    const current = await deps.store.requireBudget(budget_id);
    const capUsd = changes.cap_micro_usd === undefined ? current.cap_micro_usd : changes.cap_micro_usd;
    const capTokens = changes.cap_tokens === undefined ? current.cap_tokens : changes.cap_tokens;
    if (capUsd == null && capTokens == null)
      throw new HarnessError('invalid_payload', 'a budget needs cap_micro_usd, cap_tokens or both: keep one of them');
    const ops: UpdateOp[] = [{ type: 'set', path: 'updated_at', value: deps.now() }];
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      ops.push(value === null ? { type: 'remove', path: field } : { type: 'set', path: field, value });
    }
    return { budget: await writeBudget(deps, budget_id, ops) };
  }) satisfies Handler<typeof contracts.budget.update>;

export const deleteBudget = (deps: BudgetDeps) =>
  (async ({ budget_id }) => {
    const budget = await deps.store.requireBudget(budget_id);
    await deps.store.bus.state.delete(deps.store.budgets, budget_id);
    await deps.store.unindexBudget(budget);
    return { deleted: true as const };
  }) satisfies Handler<typeof contracts.budget.delete>;

/** A new epoch: the counter key changes, so usage starts from zero without touching the old counter. */
export const resetBudget = (deps: BudgetDeps) =>
  (async ({ budget_id }) => {
    await deps.store.requireBudget(budget_id);
    const now = deps.now();
    const budget = await writeBudget(deps, budget_id, [
      { type: 'increment', path: 'epoch', by: 1 },
      { type: 'set', path: 'epoch_started_at', value: now },
      { type: 'set', path: 'updated_at', value: now },
    ]);
    return { budget };
  }) satisfies Handler<typeof contracts.budget.reset>;

export const setAlerts = (deps: BudgetDeps) =>
  (async ({ budget_id, thresholds_pct }) => {
    await deps.store.requireBudget(budget_id);
    const budget = await writeBudget(deps, budget_id, [
      { type: 'set', path: 'alert_thresholds_pct', value: thresholds_pct },
      { type: 'set', path: 'updated_at', value: deps.now() },
    ]);
    return { budget };
  }) satisfies Handler<typeof contracts.budget.alertSet>;

/**
 * Apply field ops to a budget atomically (a concurrent reset's epoch is never overwritten). If
 * the budget was deleted meanwhile, the update created a fragment: it is removed again.
 */
async function writeBudget(deps: BudgetDeps, budgetId: string, ops: UpdateOp[]): Promise<Budget> {
  const { old, doc } = await deps.store.update(deps.store.budgets, budgetId, ops);
  if (!old) {
    await deps.store.bus.state.delete(deps.store.budgets, budgetId);
    throw new HarnessError('not_found', `budget ${budgetId} does not exist`);
  }
  return readBudget(doc, `${deps.store.budgets}/${budgetId}`);
}
