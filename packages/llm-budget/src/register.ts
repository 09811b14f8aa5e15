import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { createBudget, deleteBudget, getBudget, listBudgets, resetBudget, setAlerts, updateBudget } from './budgets.js';
import { type Config, configSchema, envOverrides } from './config.js';
import { budgetDeps } from './context.js';
import { reserve } from './reserve.js';
import { commit, release } from './settle.js';
import { BudgetStore } from './store.js';
import { sweep, sweepHandler } from './sweep.js';
import { budgetUsageHandler, forecast } from './usage.js';

const { budget } = contracts;

export interface LlmBudgetOptions {
  /** The clock (tests move it to cross periods and expire reservations). */
  now?: () => number;
}

/**
 * The whole bus surface of llm-budget: functions only, plus the sweeper on a timer in every
 * replica. It owns the `<state_prefix>_*` state scopes and writes `budget_alert` items on stream
 * `budget::alerts`. It calls `models::get` (models-catalog) to price a reservation.
 */
export function registerWith(options: LlmBudgetOptions = {}) {
  return (worker: Worker<Config>): void => {
    const deps = budgetDeps(new BudgetStore(worker.bus, worker.config), worker.config, worker.logger, options.now);
    worker.function(budget.create, createBudget(deps));
    worker.function(budget.get, getBudget(deps));
    worker.function(budget.list, listBudgets(deps));
    worker.function(budget.update, updateBudget(deps));
    worker.function(budget.delete, deleteBudget(deps));
    worker.function(budget.usage, budgetUsageHandler(deps));
    worker.function(budget.reset, resetBudget(deps));
    worker.function(budget.alertSet, setAlerts(deps));
    worker.function(budget.forecast, forecast(deps));
    worker.function(budget.reserve, reserve(deps));
    worker.function(budget.commit, commit(deps));
    worker.function(budget.release, release(deps));
    worker.function(budget.sweep, sweepHandler(deps));
    startSweeper(worker, () => sweep(deps));
  };
}

/**
 * Run `run` once right after start (a restarted worker cleans up after the one that died) and
 * then every sweep_interval_ms, never two at once in this process.
 */
function startSweeper(worker: Worker<Config>, run: () => Promise<unknown>): void {
  if (worker.config.sweep_interval_ms === 0) return;
  let running = false;
  const tick = () => {
    if (running) return;
    running = true;
    run()
      .catch((error) => worker.logger.error({ err: error }, 'budget sweep failed'))
      .finally(() => {
        running = false;
      });
  };
  const first = setTimeout(tick, 0);
  const timer = setInterval(tick, worker.config.sweep_interval_ms);
  first.unref();
  timer.unref();
  worker.onShutdown(() => {
    clearTimeout(first);
    clearInterval(timer);
  });
}

/** The worker spec with an injected clock (tests); `llmBudgetWorker` uses the real one. */
export function createLlmBudgetWorker(options: LlmBudgetOptions = {}): WorkerSpec<Config> {
  return {
    name: 'llm-budget',
    description:
      'Spending caps on LLM calls (USD and tokens per workspace, agent or session) that hold under concurrency and crashes',
    config: configSchema,
    env: envOverrides,
    register: registerWith(options),
  };
}

export const llmBudgetWorker = createLlmBudgetWorker();
