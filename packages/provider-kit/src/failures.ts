import { maskSecrets, REDACTED } from '@iii-harness/runtime';
import type { ProviderFailureReason } from '@iii-harness/types';

/**
 * Provider failures, classified once at the edge as data. Callers read `retryable` and
 * `kind`; nobody regexes messages downstream.
 */
export type FailureKind = ProviderFailureReason;

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

/**
 * "The request does not fit the model's window", as each vendor words it. Only OpenAI
 * (`code: context_length_exceeded`) and llama.cpp (`type: exceed_context_size_error`) give it a
 * structured field; the rest is text, so the wordings live here, once, next to the vendor that
 * sends them. Every match becomes `context_overflow` (retryable: false — compaction can help, a
 * retry as is cannot).
 */
const CONTEXT_OVERFLOW_WORDINGS: RegExp[] = [
  // Anthropic: "prompt is too long: 208310 tokens > 200000 maximum"
  /prompt is too long/i,
  // Anthropic, older: "input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000"
  /input length and `?max_tokens`? exceed context limit/i,
  // OpenAI chat completions: "This model's maximum context length is 128000 tokens. However, your messages resulted in …"
  /maximum context length is/i,
  // OpenAI Responses: "Your input exceeds the context window of this model. Please adjust your input and try again."
  /exceeds the context window/i,
  // Kimi (Moonshot): "Invalid request: Your request exceeded model token limit: 262144 (requested: 269030)"
  /exceeded model token limit/i,
  // llama.cpp llama-server: "the request exceeds the available context size, try increasing it"
  /exceeds the available context size/i,
  // LM Studio (llama.cpp engine): "The number of tokens to keep from the initial prompt is greater than the context length (n_keep: 13055>= n_ctx: 4096)"
  /greater than the context length/i,
  // LM Studio: "Trying to keep the first 111490 tokens when context the overflows. However, the model is loaded with context length of only 32768 tokens, which is not enough."
  /when context the overflows/i,
  // LM Studio: "Cannot truncate prompt with n_keep (15028) >= n_ctx (7424)"
  /n_keep \(\d+\) >= n_ctx/i,
  // LM Studio: "Input does not fit in context length. The input has 31430 tokens, but the context length only supports 30000 tokens."
  /does not fit in context length/i,
  // LM Studio (MLX engine): "Context size has been exceeded"
  /context size has been exceeded/i,
];
const CONTEXT_OVERFLOW_CODES = new Set(['context_length_exceeded', 'exceed_context_size_error']);

/** Whether a vendor's error (its message, and its error `code` or `type` when it has one) says the context overflowed. */
export function isContextOverflow(error: { message?: string; code?: unknown; type?: unknown }): boolean {
  if (CONTEXT_OVERFLOW_CODES.has(String(error.code)) || CONTEXT_OVERFLOW_CODES.has(String(error.type))) return true;
  const text = error.message ?? '';
  return CONTEXT_OVERFLOW_WORDINGS.some((wording) => wording.test(text));
}

/** The kind of an HTTP failure; `body` is the vendor's error text (an overflow may come as 400, 413 or even 500). */
export function kindForStatus(status: number, body = ''): FailureKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (isContextOverflow({ message: body })) return 'context_overflow';
  if (status === 529 || status === 503) return 'overloaded';
  if (status === 404) return 'not_found';
  if (status === 408) return 'timeout';
  if (status === 400 || status === 413 || status === 422) return 'bad_request';
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
    const overflow = isContextOverflow({ message, code: e.code, type: (error as { type?: unknown }).type });
    const kind =
      overflow && ![401, 403, 429].includes(e.status) ? 'context_overflow' : kindForStatus(e.status, message);
    return new ProviderFailure(kind, message, {
      status: e.status,
      retryAfterMs: retryAfterFrom(e.headers),
    });
  }
  // The SDKs parse each SSE frame with JSON.parse: a frame cut off mid-JSON is a broken stream, not a network blip.
  if (error instanceof SyntaxError)
    return new ProviderFailure('bad_response', `the vendor's stream carried malformed JSON: ${message}`);
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

/**
 * The failure with secrets taken out of its text: every value the process registered as a secret,
 * and the given ones (the request's resolved API key), replaced wherever they appear. Vendors echo
 * the key in some 401 bodies; the text goes to the caller, the turn record and the UI.
 */
export function withoutSecrets(failure: ProviderFailure, secrets: Array<string | undefined>): ProviderFailure {
  let message = maskSecrets(failure.message);
  for (const secret of secrets) if (secret && secret.length >= 4) message = message.split(secret).join(REDACTED);
  if (message === failure.message) return failure;
  return new ProviderFailure(failure.kind, message, failure.options);
}
