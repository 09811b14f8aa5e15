import { isHarnessError } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import type { BudgetDeps } from './context.js';
import { type TokenPrices, tokenPricesOf } from './money.js';

export type Pricing = { kind: 'priced'; prices: TokenPrices } | { kind: 'unpriced' | 'unknown' | 'unavailable' };

/**
 * A model's price as the catalog has it (`models::get`), remembered for `price_ttl_ms`: prices
 * change rarely and every reserve needs one, so a run of calls to one model asks the catalog once
 * per period. Only answers the catalog gave are kept: a model it does not know yet, or a catalog
 * that cannot be reached, is asked again on the next reserve.
 */
export class PriceCache {
  private readonly entries = new Map<string, { until: number; pricing: Pricing }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 1_000,
  ) {}

  async get(deps: BudgetDeps, provider: string, model: string): Promise<Pricing> {
    const key = `${provider}\u0000${model}`;
    const now = deps.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.pricing;
    const pricing = await askCatalog(deps, provider, model);
    if (this.ttlMs > 0 && (pricing.kind === 'priced' || pricing.kind === 'unpriced')) {
      this.entries.delete(key);
      this.entries.set(key, { until: now + this.ttlMs, pricing });
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return pricing;
  }
}

async function askCatalog(deps: BudgetDeps, provider: string, model: string): Promise<Pricing> {
  try {
    const found = await deps.store.bus.call(contracts.models.get, { provider, model_id: model });
    return found.model.pricing ? { kind: 'priced', prices: tokenPricesOf(found.model.pricing) } : { kind: 'unpriced' };
  } catch (error) {
    if (isHarnessError(error) && error.code === 'not_found' && error.reason !== 'function_not_found')
      return { kind: 'unknown' };
    deps.logger.warn({ err: error, provider, model }, 'models::get failed; the price is unknown');
    return { kind: 'unavailable' };
  }
}
