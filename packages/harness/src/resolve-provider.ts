import { type Bus, type Handler, HarnessError, type Logger, registerSecret } from '@iii-harness/runtime';
import { contracts, type RegisteredProvider, type ResolvedProvider } from '@iii-harness/types';
import type { ProviderStore } from './provider-store.js';

type Credential = ResolvedProvider['credential'];

/**
 * The provider's credential from `auth::get_token`, over the bus. Nothing there — the vault has no
 * token, or auth-credentials is not running (`not_found`) — is `source: 'none'`; a vault that fails
 * otherwise is `unavailable` for a cloud provider (retry) and `none` for a local one.
 */
async function fetchCredential(
  bus: Bus,
  provider: RegisteredProvider,
  timeoutMs: number,
  logger: Logger,
): Promise<Credential> {
  const none: Credential = { configured: provider.kind === 'local', source: 'none' };
  try {
    const { token, source } = await bus.call(contracts.auth.getToken, { provider: provider.id }, { timeoutMs });
    registerSecret(token);
    return { configured: true, source, token };
  } catch (error) {
    const code = error instanceof HarnessError ? error.code : 'internal';
    if (code === 'not_found') return none;
    logger.warn({ provider: provider.id, err: error }, 'auth::get_token failed');
    if (provider.kind === 'local') return none;
    throw new HarnessError(
      'unavailable',
      `the credential of ${provider.id} could not be read (auth::get_token: ${code})`,
    );
  }
}

export const resolveProvider = (store: ProviderStore, authTimeoutMs: number) =>
  (async ({ provider: id }, { bus, logger }) => {
    const provider = await store.get(id);
    if (!provider) throw new HarnessError('not_found', `provider ${id} is not registered`);
    const found = await fetchCredential(bus, provider, authTimeoutMs, logger);
    logger.debug({ provider: id, configured: found.configured, source: found.source }, 'provider resolved');
    return { provider: id, kind: provider.kind, ...store.effective(provider), credential: found };
  }) satisfies Handler<typeof contracts.harness.providerResolve>;
