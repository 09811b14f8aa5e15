import { HarnessError } from '@iii-harness/runtime';
import type { ErrorCode } from '@iii-harness/types';

/**
 * Every way web::fetch fails, as `code/reason`. A model acts on the reason: fix its input
 * (`bad_url`, `bad_header`, `bad_request`, `too_large`, `binary_content`), give up on the address
 * (`blocked`, `dns_error`, `tls_error`), or retry when `retryable` says so.
 */
const reasons = {
  /** Malformed URL, unsupported scheme, credentials in the URL, a URL over the length limit. */
  bad_url: { code: 'invalid_payload' },
  /** A header name that is not a token, CR/LF/NUL in a value, a header web::fetch sets itself. */
  bad_header: { code: 'invalid_payload' },
  /** A request that cannot be sent as asked (a body with GET or HEAD). */
  bad_request: { code: 'invalid_payload' },
  /** The request body is over the limit (nothing sent), or the response headers are. */
  too_large: { code: 'invalid_payload' },
  /** The content is binary and the caller asked for text or markdown. */
  binary_content: { code: 'invalid_payload' },
  /** The SSRF guard refused the URL, its host, an address it resolved to, a port, or a redirect. */
  blocked: { code: 'denied' },
  /** Total time or time to first byte ran out. */
  timeout: { code: 'timeout' },
  /** More redirects than allowed. */
  too_many_redirects: { code: 'unavailable', retryable: false },
  /** A 4xx/5xx status when the caller asked for `fail_on_http_error`. */
  http_error: { code: 'unavailable' },
  /** The host name does not resolve. */
  dns_error: { code: 'not_found' },
  /** Connection refused, reset, unreachable. */
  network_error: { code: 'unavailable', retryable: true },
  /** The certificate or the TLS handshake failed. */
  tls_error: { code: 'unavailable', retryable: false },
  /** The server broke HTTP: a bad status line, a corrupt compressed body, an unusable redirect. */
  bad_response: { code: 'unavailable', retryable: false },
} satisfies Record<string, { code: ErrorCode; retryable?: boolean }>;

export type WebErrorReason = keyof typeof reasons;

export function webError(reason: WebErrorReason, message: string, options: { retryable?: boolean } = {}): HarnessError {
  const spec: { code: ErrorCode; retryable?: boolean } = reasons[reason];
  return new HarnessError(spec.code, message, { reason, retryable: options.retryable ?? spec.retryable });
}

/** Response headers over the limit are the server's doing, not the caller's: same reason, another code. */
export function responseTooLarge(message: string): HarnessError {
  return new HarnessError('unavailable', message, { reason: 'too_large', retryable: false });
}

/** Statuses worth trying again later. */
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

export function httpError(status: number, statusText: string, url: string): HarnessError {
  return webError('http_error', `HTTP ${status}${statusText ? ` ${statusText}` : ''} from ${url}`, {
    retryable: RETRYABLE_STATUS.has(status),
  });
}
