import type { Logger } from '@iii-harness/runtime';
import type { Config } from './config.js';
import { Counters } from './counters.js';
import { PriceCache } from './prices.js';
import type { BudgetStore } from './store.js';

/** What every feature of llm-budget works with. `now` is injectable so tests can move time. */
export interface BudgetDeps {
  store: BudgetStore;
  counters: Counters;
  prices: PriceCache;
  config: Config;
  logger: Logger;
  now: () => number;
}

export function budgetDeps(
  store: BudgetStore,
  config: Config,
  logger: Logger,
  now: () => number = Date.now,
): BudgetDeps {
  return { store, counters: new Counters(store), prices: new PriceCache(config.price_ttl_ms), config, logger, now };
}
