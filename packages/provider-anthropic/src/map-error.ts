import { classifyError, type FailureKind, isContextOverflow, ProviderFailure } from '@iii-harness/provider-kit';

/** Anthropic's error `type`s (HTTP bodies and stream `error` events) in our terms. */
const KIND_BY_TYPE: Record<string, FailureKind> = {
  authentication_error: 'auth',
  permission_error: 'auth',
  billing_error: 'auth',
  rate_limit_error: 'rate_limited',
  overloaded_error: 'overloaded',
  api_error: 'server',
  timeout_error: 'timeout',
  invalid_request_error: 'bad_request',
  request_too_large: 'bad_request',
  not_found_error: 'not_found',
};

interface SdkError {
  status?: number;
  /** The error type from the body (`overloaded_error`, …), set by @anthropic-ai/sdk's APIError. */
  type?: string | null;
  apiMessage?: string | null;
}

/**
 * What the SDK threw, as a ProviderFailure with a readable message (`Anthropic 429
 * rate_limit_error: …` instead of the raw JSON body). A stream `error` event has no HTTP
 * status: its `type` decides the kind. Status and retry-after come from the kit's classifier.
 */
export function anthropicFailure(error: unknown, signal?: AbortSignal): ProviderFailure {
  const base = classifyError(error, signal);
  const e = error as SdkError;
  if (error instanceof ProviderFailure || base.kind === 'aborted') return base;
  if (typeof e?.type !== 'string') {
    return base.kind === 'connection' || base.kind === 'timeout'
      ? new ProviderFailure(base.kind, `Anthropic connection failed: ${base.message}`)
      : base;
  }
  const detail = `${e.type}: ${e.apiMessage ?? base.message}`;
  if (typeof e.status === 'number') {
    return new ProviderFailure(base.kind, `Anthropic ${e.status} ${detail}`, {
      status: e.status,
      retryAfterMs: base.retryAfterMs,
    });
  }
  const kind = isContextOverflow({ message: detail }) ? 'context_overflow' : (KIND_BY_TYPE[e.type] ?? 'unknown');
  return new ProviderFailure(kind, `Anthropic stream error ${detail}`, kind === 'unknown' ? { retryable: false } : {});
}
