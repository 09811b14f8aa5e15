import { classifyError, ProviderFailure } from './failures.js';

export interface RetryPolicy {
  /** Further attempts after the first. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A server asking for a longer wait than this is not retried; the failure goes to the caller. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 2,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/** Full jitter: a random delay up to the exponential bound. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const bound = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(bound / 2 + (random() * bound) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ProviderFailure('aborted', 'request aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ProviderFailure('aborted', 'request aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One try of a streamed request; it calls `started()` once bytes of the answer have arrived. */
export type StreamAttempt<T> = (attempt: { signal: AbortSignal; started: () => void; number: number }) => Promise<T>;

/**
 * Run `attempt`, retrying retryable failures with backoff — but only while nothing has streamed:
 * once `started()` was called a retry would duplicate output, so the failure is final.
 * A `retry-after` from the server replaces the computed delay.
 */
export async function retryBeforeFirstByte<T>(
  attempt: StreamAttempt<T>,
  options: { signal: AbortSignal; policy?: RetryPolicy; onRetry?: (failure: ProviderFailure, delayMs: number) => void },
): Promise<T> {
  const policy = options.policy ?? defaultRetryPolicy;
  for (let number = 0; ; number++) {
    let streaming = false;
    try {
      return await attempt({
        signal: options.signal,
        started: () => {
          streaming = true;
        },
        number,
      });
    } catch (error) {
      const failure = classifyError(error, options.signal);
      const wait = failure.retryAfterMs ?? backoffDelay(number, policy);
      const canRetry =
        !streaming &&
        failure.retryable &&
        number < policy.maxRetries &&
        wait <= policy.maxRetryAfterMs &&
        !options.signal.aborted;
      if (!canRetry) throw failure;
      options.onRetry?.(failure, wait);
      await sleep(wait, options.signal);
    }
  }
}
