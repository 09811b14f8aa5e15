import { registerSecret } from '@iii-harness/runtime';
import type { ProviderCredentialStatus, TokenSource } from '@iii-harness/types';
import type { CredentialStore } from './credential-store.js';

/** The stored token wins; the provider's environment variable is the fallback. */
export class Vault {
  constructor(
    readonly store: CredentialStore,
    private readonly envVars: Readonly<Record<string, string>>,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  envVarOf(provider: string): string | null {
    return Object.hasOwn(this.envVars, provider) ? this.envVars[provider]! : null;
  }

  /**
   * Register every credential this vault can hand out — stored and from the environment — as a
   * secret now, rather than when each is first asked for: an error or event of this process may
   * carry one before anyone asked.
   */
  async registerSecrets(): Promise<void> {
    for (const variable of Object.values(this.envVars)) registerSecret(this.env[variable]);
    await this.store.read();
  }

  /** The provider's key from the environment (read on every call, so a changed env is seen). */
  fromEnvironment(provider: string): string | undefined {
    const variable = this.envVarOf(provider);
    const value = variable ? this.env[variable] : undefined;
    if (!value) return undefined;
    registerSecret(value);
    return value;
  }

  async token(provider: string): Promise<{ token: string; source: TokenSource } | undefined> {
    const stored = await this.store.get(provider);
    if (stored) return { token: stored.token, source: 'stored' };
    const fromEnv = this.fromEnvironment(provider);
    return fromEnv ? { token: fromEnv, source: 'environment' } : undefined;
  }

  /** One provider's status, or every stored or known provider's, ordered by id. */
  async status(provider?: string): Promise<ProviderCredentialStatus[]> {
    const stored = await this.store.read();
    const ids = provider ? [provider] : this.idsOf(stored);
    return ids.map((id) => {
      const env_var = this.envVarOf(id);
      if (Object.hasOwn(stored, id))
        return { provider: id, configured: true, source: 'stored', env_var, updated_at: stored[id]!.updated_at };
      const inEnv = this.fromEnvironment(id) !== undefined;
      return { provider: id, configured: inEnv, source: inEnv ? 'environment' : null, env_var };
    });
  }

  /** Stored providers and those with a known environment variable, ordered by id. */
  async providerIds(): Promise<string[]> {
    return this.idsOf(await this.store.read());
  }

  private idsOf(stored: Record<string, unknown>): string[] {
    return [...new Set([...Object.keys(stored), ...Object.keys(this.envVars)])].sort();
  }
}
