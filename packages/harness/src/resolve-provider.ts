import { type Bus, defineFunction, HarnessError, type Logger, registerSecret } from '@iii-harness/runtime';
import { z } from 'zod';
import { providerId } from './config.js';
import type { ProviderStore, StoredProvider } from './provider-store.js';

const credential = z.object({
  /** Whether a call can be made: a token was found, or the provider is local and needs none. */
  configured: z.boolean(),
  source: z.enum(['stored', 'environment', 'none']),
  token: z.string().optional(),
});
type Credential = z.infer<typeof credential>;

/** What auth-credentials answers; read loosely so this worker does not break on additive changes. */
const tokenAnswer = z.looseObject({ token: z.string().nullish(), source: z.string().nullish() });

/**
 * The provider's credential from `auth::get_token`, over the bus. Nothing there — the vault has no
 * token, or auth-credentials is not running (`not_found`) — is `source: 'none'`; a vault that fails
 * otherwise is `unavailable` for a cloud provider (retry) and `none` for a local one.
 */
async function fetchCredential(
  bus: Bus,
  provider: StoredProvider,
  timeoutMs: number,
  logger: Logger,
): Promise<Credential> {
  const none: Credential = { configured: provider.kind === 'local', source: 'none' };
  let answer: unknown;
  try {
    answer = await bus.call('auth::get_token', { provider: provider.id }, { timeoutMs });
  } catch (error) {
    const code = error instanceof HarnessError ? error.code : 'internal';
    if (code === 'not_found') return none;
    logger.warn({ provider: provider.id, code }, 'auth::get_token failed');
    if (provider.kind === 'local') return none;
    throw new HarnessError(
      'unavailable',
      `the credential of ${provider.id} could not be read (auth::get_token: ${code})`,
    );
  }
  const parsed = tokenAnswer.safeParse(answer);
  const token = parsed.success ? parsed.data.token : undefined;
  if (!token) return none;
  registerSecret(token);
  const source = parsed.success && parsed.data.source === 'environment' ? 'environment' : 'stored';
  return { configured: true, source, token };
}

export const resolveProvider = (store: ProviderStore, authTimeoutMs: number) =>
  defineFunction({
    id: 'harness::provider::resolve',
    description:
      'What a caller needs to reach a provider: effective URL and max tokens (declaration + config overrides) and its credential from auth-credentials',
    input: z.object({ provider: providerId }).strict(),
    output: z.object({
      provider: z.string(),
      kind: z.enum(['cloud', 'local']),
      api_url: z.string(),
      max_tokens: z.number().int(),
      credential,
    }),
    async handler({ provider: id }, { bus, logger }) {
      const provider = await store.get(id);
      if (!provider) throw new HarnessError('not_found', `provider ${id} is not registered`);
      const found = await fetchCredential(bus, provider, authTimeoutMs, logger);
      logger.debug({ provider: id, configured: found.configured, source: found.source }, 'provider resolved');
      return { provider: id, kind: provider.kind, ...store.effective(provider), credential: found };
    },
  });
