import { z } from 'zod';
import { defaultRetryPolicy, type RetryPolicy } from './retry.js';

/** Settings every provider worker has; each provider extends this object with its own keys. */
export const providerConfigShape = {
  /** Overrides the provider's default API base URL (the harness's config can override it again per deployment). */
  base_url: z.string().url().optional(),
  max_retries: z.number().int().min(0).max(10).default(defaultRetryPolicy.maxRetries),
  retry_base_delay_ms: z.number().int().positive().default(defaultRetryPolicy.baseDelayMs),
  retry_max_delay_ms: z.number().int().positive().default(defaultRetryPolicy.maxDelayMs),
  /** Refresh the model list into the catalog when the worker starts. */
  discover_on_start: z.boolean().default(true),
  /**
   * Resolved settings (URL, max tokens, credential) are reused this long, and refreshed in the
   * background after a request once half of it has passed: two bus hops less before the first
   * token; a changed key or URL applies within this time. 0 resolves every request.
   */
  settings_ttl_ms: z.number().int().min(0).max(300_000).default(2_000),
  /**
   * A harness that answered before and is gone now (restarting) or silent is waited for this long
   * when settings are needed; then the request fails as `connection` (retryable).
   */
  settings_wait_ms: z.number().int().min(0).max(120_000).default(10_000),
};

export const providerConfig = z.object(providerConfigShape).strict();
export type ProviderConfig = z.infer<typeof providerConfig>;

export function retryPolicyOf(config: ProviderConfig): RetryPolicy {
  return {
    ...defaultRetryPolicy,
    maxRetries: config.max_retries,
    baseDelayMs: config.retry_base_delay_ms,
    maxDelayMs: config.retry_max_delay_ms,
  };
}

/** Env overrides every provider documents, prefixed with its id (e.g. IIH_KIMI_BASE_URL). */
export function providerEnvOverrides(prefix: string): Record<string, string> {
  return {
    [`${prefix}_BASE_URL`]: 'base_url',
    [`${prefix}_MAX_RETRIES`]: 'max_retries',
    [`${prefix}_DISCOVER_ON_START`]: 'discover_on_start',
  };
}
