import type { WebFetchFormat, webFetchInput } from '@iii-harness/types';
import type { z } from 'zod';
import type { Config } from './config.js';
import { webError } from './errors.js';

/** A validated call: nothing is sent before every check here passed. */
export interface PreparedRequest {
  url: URL;
  method: string;
  /** The caller's headers, names as given. */
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  format: WebFetchFormat;
  failOnHttpError: boolean;
}

/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What HTTP/1.1 can carry in a header value: visible Latin-1 and HTAB (no control characters). */
const UNSENDABLE = /[^\t\x20-\x7e\x80-\xff]/;
const MAX_HEADERS = 100;

/** Headers web::fetch sets or manages itself (framing, connection, target, decompression). */
const MANAGED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'accept-encoding',
  'http2-settings',
]);

/** Why a URL string cannot be fetched, or its parsed form. `base` resolves a relative redirect target. */
export function parseHttpUrl(text: string, maxLength: number, base?: URL): URL | string {
  if (text.length > maxLength) return `the URL is longer than ${maxLength} characters`;
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    return `${JSON.stringify(truncate(text))} is not a valid URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `unsupported scheme ${url.protocol} (only http and https)`;
  if (url.username || url.password) return 'credentials in the URL are not supported (send an Authorization header)';
  if (!url.hostname) return 'the URL has no host';
  return url;
}

const truncate = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

function checkHeaders(headers: Record<string, string>, config: Config): void {
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) throw webError('bad_header', `more than ${MAX_HEADERS} headers`);
  const seen = new Set<string>();
  let size = 0;
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) throw webError('bad_header', `${JSON.stringify(name)} is not a valid header name`);
    if (/[\r\n]/.test(value))
      throw webError('bad_header', `header ${name} contains CR or LF (header injection); nothing was sent`);
    if (UNSENDABLE.test(value))
      throw webError('bad_header', `header ${name} contains a control character or a character beyond Latin-1`);
    const lower = name.toLowerCase();
    if (MANAGED_HEADERS.has(lower) || lower.startsWith('proxy-'))
      throw webError('bad_header', `header ${name} is set by web::fetch, not by the caller`);
    if (seen.has(lower)) throw webError('bad_header', `header ${name} is given twice (names are case-insensitive)`);
    seen.add(lower);
    size += name.length + value.length + 4;
  }
  if (size > config.max_header_bytes)
    throw webError('bad_header', `request headers are larger than ${config.max_header_bytes} bytes`);
}

const clamp = (asked: number | undefined, limit: { default: number; max: number }) =>
  Math.min(asked ?? limit.default, limit.max);

/** Validate a call against the config; throws `invalid_payload` with a reason before anything is sent. */
export function prepareRequest(input: z.output<typeof webFetchInput>, config: Config): PreparedRequest {
  const url = parseHttpUrl(input.url, config.max_url_length);
  if (typeof url === 'string') throw webError('bad_url', url);
  const headers = input.headers ?? {};
  checkHeaders(headers, config);
  let body: Buffer | undefined;
  if (input.body !== undefined) {
    if (input.method === 'GET' || input.method === 'HEAD')
      throw webError('bad_request', `a ${input.method} request cannot have a body`);
    body = Buffer.from(input.body, 'utf8');
    if (body.length > config.max_request_bytes)
      throw webError(
        'too_large',
        `the request body is ${body.length} bytes, over the ${config.max_request_bytes}-byte limit; nothing was sent`,
      );
  }
  return {
    url,
    method: input.method,
    headers,
    body,
    timeoutMs: clamp(input.timeout_ms, config.timeout_ms),
    maxBytes: clamp(input.max_bytes, config.max_bytes),
    maxRedirects: clamp(input.max_redirects, config.max_redirects),
    format: input.format,
    failOnHttpError: input.fail_on_http_error,
  };
}
