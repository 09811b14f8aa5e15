import type { Bus } from '@iii-harness/runtime';
import type { ProviderDeclaration, RegisteredProvider } from '@iii-harness/types';
import { registeredProvider } from '@iii-harness/types';
import type { Config } from './config.js';

/** Declarations live in engine state, one key per provider, so a restart of the harness keeps them. */
export class ProviderStore {
  constructor(
    private readonly bus: Bus,
    private readonly config: Config,
  ) {}

  async save(declaration: ProviderDeclaration): Promise<RegisteredProvider> {
    const record: RegisteredProvider = { ...declaration, registered_at: Date.now() };
    await this.bus.state.set(this.config.providers_scope, declaration.id, record);
    return record;
  }

  get(id: string): Promise<RegisteredProvider | undefined> {
    return this.bus.state.get(this.config.providers_scope, id, registeredProvider);
  }

  /** Every declaration, by id (engine lists are unordered). */
  async all(): Promise<RegisteredProvider[]> {
    const providers = await this.bus.state.list(this.config.providers_scope, registeredProvider);
    return providers.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The declaration with the operator's overrides from config applied. */
  effective(provider: RegisteredProvider): { api_url: string; max_tokens: number } {
    const override = this.config.providers[provider.id];
    return {
      api_url: override?.api_url ?? provider.default_url,
      max_tokens: override?.max_tokens ?? provider.default_max_tokens,
    };
  }
}
