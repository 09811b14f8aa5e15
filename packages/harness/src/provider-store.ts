import type { Bus } from '@iii-harness/runtime';
import { z } from 'zod';
import { type Config, providerId } from './config.js';

/** What a provider worker declares about itself when it starts. No secrets: credentials live in auth-credentials. */
export const providerDeclaration = z
  .object({
    id: providerId,
    display_name: z.string().min(1).max(128),
    /** Where the vault looks for the key when none is stored, e.g. ANTHROPIC_API_KEY. */
    credential_env_var: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name')
      .optional(),
    default_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    default_max_tokens: z.number().int().positive().max(10_000_000),
    supports_model_listing: z.boolean(),
    /** `local` providers (LM Studio, llama.cpp) work without a credential. */
    kind: z.enum(['cloud', 'local']).default('cloud'),
  })
  .strict();
export type ProviderDeclaration = z.output<typeof providerDeclaration>;

export const storedProvider = providerDeclaration.extend({ registered_at: z.number().int() });
export type StoredProvider = z.output<typeof storedProvider>;

/** Declarations live in engine state, one key per provider, so a restart of the harness keeps them. */
export class ProviderStore {
  constructor(
    private readonly bus: Bus,
    private readonly config: Config,
  ) {}

  async save(declaration: ProviderDeclaration): Promise<StoredProvider> {
    const record: StoredProvider = { ...declaration, registered_at: Date.now() };
    await this.bus.state.set(this.config.providers_scope, declaration.id, record);
    return record;
  }

  get(id: string): Promise<StoredProvider | undefined> {
    return this.bus.state.get(this.config.providers_scope, id, storedProvider);
  }

  /** Every declaration, by id (engine lists are unordered). */
  async all(): Promise<StoredProvider[]> {
    const providers = await this.bus.state.list(this.config.providers_scope, storedProvider);
    return providers.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** The declaration with the operator's overrides from config applied. */
  effective(provider: StoredProvider): { api_url: string; max_tokens: number } {
    const override = this.config.providers[provider.id];
    return {
      api_url: override?.api_url ?? provider.default_url,
      max_tokens: override?.max_tokens ?? provider.default_max_tokens,
    };
  }
}
