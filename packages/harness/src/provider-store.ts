import { type Bus, versionedRecord } from '@iii-harness/runtime';
import type { ProviderDeclaration, RegisteredProvider } from '@iii-harness/types';
import { registeredProvider } from '@iii-harness/types';
import type { Config } from './config.js';

/**
 * A stored declaration carries a version `v`; one written before it is version 1 (today's shape),
 * one of a newer version is refused (`unavailable/unsupported_record_version`).
 */
const declarationVersions = versionedRecord({
  what: 'provider declaration',
  current: 1,
  unversioned: 1,
  schema: registeredProvider,
  migrations: {},
});

/** Declarations live in engine state, one key per provider, so a restart of the harness keeps them. */
export class ProviderStore {
  constructor(
    private readonly bus: Bus,
    private readonly config: Config,
  ) {}

  async save(declaration: ProviderDeclaration): Promise<RegisteredProvider> {
    const record: RegisteredProvider = { ...declaration, registered_at: Date.now() };
    await this.bus.state.set(this.config.providers_scope, declaration.id, declarationVersions.stamp(record));
    return record;
  }

  async get(id: string): Promise<RegisteredProvider | undefined> {
    const value = await this.bus.state.get(this.config.providers_scope, id);
    return value === undefined ? undefined : this.read(value, `${this.config.providers_scope}/${id}`);
  }

  /** Every declaration, by id (engine lists are unordered). */
  async all(): Promise<RegisteredProvider[]> {
    const values = await this.bus.state.list(this.config.providers_scope);
    return values
      .map((value) => this.read(value, this.config.providers_scope))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  private read(value: unknown, where: string): RegisteredProvider {
    const { v: _v, ...provider } = declarationVersions.read(value, where);
    return provider;
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
