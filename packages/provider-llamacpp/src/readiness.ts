import {
  ProviderFailure,
  type ResolvedProvider,
  serverRoot,
  sleep,
  VendorHttpError,
  vendorJson,
} from '@iii-harness/provider-kit';
import type { Logger } from '@iii-harness/runtime';

/** llama-server answers 503 `{error: {message: 'Loading model', type: 'unavailable_error'}}` until its model is loaded. */
export function isLoadingError(error: unknown): boolean {
  const e = error as { status?: number; error?: { type?: string; message?: string }; message?: string };
  return (
    e?.status === 503 &&
    (e.error?.type === 'unavailable_error' || /loading model/i.test(e.error?.message ?? e.message ?? ''))
  );
}

export interface ReadinessOptions {
  signal: AbortSignal;
  timeoutMs: number;
  pollMs: number;
  logger: Logger;
}

/**
 * Poll `GET /health` until it answers 200, backing off from `pollMs` to 2 s. Loading is a wait,
 * not a failure; only running out of `timeoutMs` (or another error from /health) fails.
 */
export async function waitUntilReady(settings: ResolvedProvider, options: ReadinessOptions): Promise<void> {
  const url = `${serverRoot(settings.api_url)}/health`;
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await vendorJson(url, { token: settings.credential.token, signal: options.signal, timeoutMs: 5_000 });
      return;
    } catch (error) {
      if (!(error instanceof VendorHttpError) || !isLoadingError(error)) throw error;
    }
    const wait = Math.min(2_000, options.pollMs * 2 ** attempt);
    if (Date.now() + wait > deadline)
      throw new ProviderFailure('overloaded', `llama-server is still loading its model after ${options.timeoutMs} ms`, {
        status: 503,
        retryable: false,
      });
    if (attempt === 0) options.logger.info({ url }, 'llama-server is loading its model; waiting for /health');
    await sleep(wait, options.signal);
  }
}
