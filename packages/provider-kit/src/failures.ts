/**
 * Provider failures, classified once at the edge as data. Callers read `retryable` and
 * `kind`; nobody regexes messages downstream.
 */
export type FailureKind =
  | 'auth'
  | 'rate_limited'
  | 'overloaded'
  | 'server'
  | 'bad_request'
  | 'context_overflow'
  | 'not_found'
  | 'connection'
  | 'timeout'
  /** The vendor's stream broke its own protocol (a second message_start, JSON cut off inside an event…). */
  | 'bad_response'
  | 'aborted'
  | 'missing_credential'
  | 'unknown';

export class ProviderFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly options: { status?: number; retryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = 'ProviderFailure';
  }

  get retryable(): boolean {
    return (
      this.options.retryable ?? ['rate_limited', 'overloaded', 'server', 'connection', 'timeout'].includes(this.kind)
    );
  }

  get status(): number | undefined {
    return this.options.status;
  }

  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
}

/** Context-overflow wording vendors use (no structured field exists for it). */
const OVERFLOW =
  /context[ _-]?(length|window)|too many tokens|prompt is too long|maximum context|exceeds the (model'?s )?context|n_ctx/i;

export function kindForStatus(status: number, body = ''): FailureKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status === 529 || status === 503) return 'overloaded';
  if (status === 404) return 'not_found';
  if (status === 408) return 'timeout';
  if (status === 400 || status === 413 || status === 422)
    return OVERFLOW.test(body) ? 'context_overflow' : 'bad_request';
  if (status >= 500) return 'server';
  return 'unknown';
}

/** `retry-after` (seconds or HTTP date) or `retry-after-ms`, in milliseconds. */
export function retryAfterFrom(
  headers: Headers | Record<string, string | null | undefined> | undefined,
): number | undefined {
  if (!headers) return undefined;
  const get = (name: string) =>
    (headers instanceof Headers ? headers.get(name) : (headers[name] ?? headers[name.toLowerCase()])) ?? undefined;
  const ms = get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const after = get('retry-after');
  if (!after) return undefined;
  if (/^\d+(\.\d+)?$/.test(after.trim())) return Math.max(0, Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Classify what an official SDK (openai, @anthropic-ai/sdk) or fetch threw. Both SDKs expose
 * `status` and `headers` on API errors and name their connection and abort errors.
 */
export function classifyError(error: unknown, signal?: AbortSignal): ProviderFailure {
  if (error instanceof ProviderFailure) return error;
  if (signal?.aborted) return new ProviderFailure('aborted', 'request aborted');
  const e = error as {
    name?: string;
    status?: number;
    headers?: Headers | Record<string, string>;
    message?: string;
    code?: string;
    cause?: { code?: string };
  };
  const message = typeof e?.message === 'string' ? e.message : String(error);
  // The SDKs' error classes keep `name === 'Error'`; their class name is what tells them apart.
  const names = [e?.name, (error as object | null)?.constructor?.name];
  if (names.includes('AbortError') || names.includes('APIUserAbortError'))
    return new ProviderFailure('aborted', 'request aborted');
  if (typeof e?.status === 'number') {
    return new ProviderFailure(kindForStatus(e.status, message), message, {
      status: e.status,
      retryAfterMs: retryAfterFrom(e.headers),
    });
  }
  if (names.includes('APIConnectionTimeoutError')) return new ProviderFailure('timeout', message);
  if (
    names.includes('APIConnectionError') ||
    CONNECTION_CODES.has(e?.code ?? '') ||
    CONNECTION_CODES.has(e?.cause?.code ?? '') ||
    /fetch failed|socket hang up|terminated/i.test(message)
  ) {
    return new ProviderFailure('connection', message);
  }
  return new ProviderFailure('unknown', message, { retryable: false });
}
