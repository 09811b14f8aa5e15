import type { Bus } from '@iii-harness/runtime';
import { type Model, model } from '@iii-harness/types';
import type { Config } from './config.js';

const providerModels = model.array();

/**
 * The catalog lives in engine state: one key per provider holding its whole model list, so a
 * provider's reconcile is a single atomic write and survives restarts of this worker.
 */
export class CatalogStore {
  constructor(
    private readonly bus: Bus,
    private readonly config: Config,
  ) {}

  /** Every model, ordered by provider then id (engine lists are unordered). */
  async all(): Promise<Model[]> {
    const lists = await this.bus.state.list(this.config.state_scope, providerModels);
    return lists.flat().sort(byProviderThenId);
  }

  async ofProvider(provider: string): Promise<Model[]> {
    return (await this.bus.state.get(this.config.state_scope, provider, providerModels)) ?? [];
  }

  /** Replace a provider's models; returns what was there before. */
  async replace(provider: string, models: Model[]): Promise<Model[]> {
    const { old_value } = await this.bus.state.set(
      this.config.state_scope,
      provider,
      [...models].sort(byProviderThenId),
    );
    const previous = providerModels.safeParse(old_value ?? []);
    return previous.success ? previous.data : [];
  }
}

export function byProviderThenId(a: Model, b: Model): number {
  return a.provider === b.provider ? a.id.localeCompare(b.id) : a.provider.localeCompare(b.provider);
}
