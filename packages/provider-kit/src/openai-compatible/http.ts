/** Requests to a vendor's non-chat endpoints (model lists, load/unload, health), with the same error shape the SDK throws. */

/** An HTTP failure carrying `status` and `headers`, so `classifyError` reads it like an SDK error. */
export class VendorHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Headers,
    readonly body: unknown,
  ) {
    super(message);
    this.name = 'VendorHttpError';
  }
}

export interface VendorRequest {
  method?: 'GET' | 'POST';
  body?: unknown;
  /** Bearer token; omitted when absent. */
  token?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** GET or POST JSON; non-2xx answers throw VendorHttpError with the vendor's error message. */
export async function vendorJson<T = unknown>(url: string, request: VendorRequest = {}): Promise<T> {
  const signals = [AbortSignal.timeout(request.timeoutMs ?? 8_000), ...(request.signal ? [request.signal] : [])];
  const response = await fetch(url, {
    method: request.method ?? 'GET',
    headers: {
      accept: 'application/json',
      ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(request.token ? { authorization: `Bearer ${request.token}` } : {}),
    },
    ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    signal: AbortSignal.any(signals),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text for the message
  }
  if (!response.ok)
    throw new VendorHttpError(response.status, `${response.status} ${errorMessageOf(body)}`, response.headers, body);
  return body as T;
}

/** The message inside `{error: {message}}`, `{error: "..."}` or `{message}`; else a short excerpt of the body. */
export function errorMessageOf(body: unknown): string {
  const b = body as { error?: { message?: unknown } | string; message?: unknown } | undefined;
  if (typeof b?.error === 'string') return b.error;
  if (typeof b?.error?.message === 'string') return b.error.message;
  if (typeof b?.message === 'string') return b.message;
  return (typeof body === 'string' ? body : JSON.stringify(body ?? '')).slice(0, 256);
}

/** `http://host:1234/v1` → `http://host:1234`: where a server's own (non-OpenAI) REST API lives. */
export function serverRoot(apiUrl: string): string {
  return apiUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** `http://host:8080` → `http://host:8080/v1`: the OpenAI-compatible base under a server root. */
export function withV1(apiUrl: string): string {
  const trimmed = apiUrl.replace(/\/+$/, '');
  return /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`;
}
