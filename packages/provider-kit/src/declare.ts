import { type Bus, HarnessError, type Logger, registerSecret } from '@iii-harness/runtime';
import { contracts, type ProviderDeclaration, type ResolvedProvider } from '@iii-harness/types';
import { ProviderFailure } from './failures.js';
import { sleep } from './retry.js';

/**
 * Whether this provider works with a harness: once the harness answered (the declaration was
 * registered, or settings were resolved), its absence means it is restarting, not that the
 * provider runs standalone.
 */
export interface HarnessLink {
  seen: boolean;
}

/**
 * Declare the provider to the harness's registry. The harness may start after us, so this keeps
 * trying in the background (1 s, 2 s, … capped at 30 s) and never blocks the worker's start.
 */
export function declareInBackground(
  bus: Bus,
  declaration: ProviderDeclaration,
  logger: Logger,
  signal: AbortSignal,
  link: HarnessLink = { seen: false },
): Promise<void> {
  return (async () => {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await bus.call(contracts.harness.providerRegister, declaration, { timeoutMs: 5_000 });
        link.seen = true;
        logger.info({ provider: declaration.id }, 'declared to the harness provider registry');
        return;
      } catch (error) {
        const delay = Math.min(30_000, 1_000 * 2 ** attempt);
        logger.warn(
          { err: (error as HarnessError).toEnvelope?.() ?? String(error), retry_in_ms: delay },
          'provider registry not reachable yet',
        );
        await sleep(delay, signal).catch(() => undefined);
      }
    }
  })();
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Set once the harness answered; its absence is then waited out. */
  link?: HarnessLink;
  /** How long an absent (restarting) or silent harness is waited for (default 10 s). */
  waitMs?: number;
}

/**
 * Settings for one request: `harness::provider::resolve` merges declaration, config and the
 * stored or environment credential. Without a harness (standalone use: it never answered) the
 * declaration's defaults and the env var apply. A harness that answered before and is gone now
 * (restarting), or does not answer, is waited for up to `waitMs`; then the request fails as
 * `connection`, retryable. The token is registered as a secret so no log line can carry it.
 */
export async function resolveSettings(
  bus: Bus,
  declaration: ProviderDeclaration,
  { env = process.env, link = { seen: false }, waitMs = 10_000 }: ResolveOptions = {},
): Promise<ResolvedProvider> {
  const deadline = Date.now() + waitMs;
  let resolved: ResolvedProvider | undefined;
  for (let delay = 100; !resolved; delay = Math.min(delay * 2, 1_000)) {
    try {
      resolved = await bus.call(contracts.harness.providerResolve, { provider: declaration.id }, { timeoutMs: 5_000 });
      link.seen = true;
    } catch (error) {
      if (!(error instanceof HarnessError)) throw error;
      const unregistered = error.reason === 'function_not_found';
      if (error.code === 'not_found' && !(unregistered && link.seen)) resolved = standalone(declaration, env);
      else if (!unregistered && error.code !== 'unavailable' && error.code !== 'timeout') throw error;
      else if (Date.now() + delay > deadline)
        throw new ProviderFailure(
          'connection',
          `provider settings could not be read (${contracts.harness.providerResolve.id}): ${error.message}`,
          { retryable: true },
        );
      else await sleep(delay);
    }
  }
  registerSecret(resolved.credential.token);
  return resolved;
}

/** Without a harness: the declaration's defaults and the credential's env var. */
function standalone(declaration: ProviderDeclaration, env: NodeJS.ProcessEnv): ResolvedProvider {
  const token = declaration.credential_env_var ? env[declaration.credential_env_var] : undefined;
  return {
    provider: declaration.id,
    kind: declaration.kind,
    api_url: declaration.default_url,
    max_tokens: declaration.default_max_tokens,
    credential: token ? { configured: true, source: 'environment', token } : { configured: false, source: 'none' },
  };
}

/** Settings for the next request, remembered for a while. */
export interface CachedResolver {
  (): Promise<ResolvedProvider>;
  /**
   * Call when a request is over: settings past half their life are fetched again in the background,
   * so the next request finds fresh ones instead of waiting for the resolve hops, and the fetch
   * never competes with a request's first token.
   */
  refreshIfAging(): void;
}

/**
 * `resolve`, remembered for `ttlMs` (failures are not remembered); see `refreshIfAging`. No value
 * older than `ttlMs` is ever served, so a changed key or URL applies within that time.
 */
export function cachedResolver(resolve: () => Promise<ResolvedProvider>, ttlMs: number): CachedResolver {
  let cached: { value: Promise<ResolvedProvider>; askedAt: number } | undefined;
  let refreshing = false;
  const remember = (value: Promise<ResolvedProvider>, askedAt: number) => {
    if (cached && cached.askedAt > askedAt) return; // a newer answer is already in
    cached = { value, askedAt };
  };
  const resolver = () => {
    if (ttlMs <= 0) return resolve();
    const now = Date.now();
    if (cached && now < cached.askedAt + ttlMs) return cached.value;
    const value = resolve();
    remember(value, now);
    value.catch(() => {
      if (cached?.value === value) cached = undefined;
    });
    return value;
  };
  resolver.refreshIfAging = () => {
    const now = Date.now();
    if (ttlMs <= 0 || refreshing || !cached || now < cached.askedAt + ttlMs / 2) return;
    refreshing = true;
    const value = resolve();
    value
      .then(
        () => remember(value, now),
        () => undefined, // the current value serves until it expires; then a resolve reports the failure
      )
      .finally(() => (refreshing = false));
  };
  return resolver;
}

/** Cloud providers need a key: without one, a clear failure naming where it comes from. */
export function requireCredential(declaration: ProviderDeclaration, resolved: ResolvedProvider): void {
  if (declaration.kind !== 'cloud' || resolved.credential.token) return;
  throw new ProviderFailure(
    'missing_credential',
    `no API key for ${declaration.id}: set ${declaration.credential_env_var ?? 'a credential'} or store one with auth::set_token`,
    { retryable: false },
  );
}
