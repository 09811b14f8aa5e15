import type { IncomingMessage } from 'node:http';
import type { Config } from './config.js';
import { webError } from './errors.js';
import type { Guard } from './guard.js';
import type { PreparedRequest } from './request.js';
import { send } from './transport.js';

export interface FetcherDeps {
  guard: Guard;
  config: Config;
  /** Extra trusted CA certificates (PEM), for tests against a local TLS server. */
  ca?: string;
}

/** The response that ended the redirect chain, headers in, body not yet read. */
export interface FinalResponse {
  response: IncomingMessage;
  url: URL;
  redirects: string[];
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Caller headers that may follow a redirect to another origin or from https to http. Everything
 * else (Authorization, Cookie, API keys under any name) is dropped for the rest of the chain:
 * a list of what is safe cannot miss a credential header the way a list of secrets can.
 */
const CROSS_ORIGIN_SAFE = new Set(['accept', 'accept-language', 'user-agent', 'cache-control', 'pragma', 'dnt']);

const keepCrossOriginSafe = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => CROSS_ORIGIN_SAFE.has(name.toLowerCase())));

const withoutBodyHeaders = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !name.toLowerCase().startsWith('content-')));

const ACCEPT_READABLE = 'text/html,application/xhtml+xml,application/json;q=0.9,text/*;q=0.8,*/*;q=0.5';

/** The headers sent: ours (unless the caller set them), the caller's, and the framing of the body. */
function outgoingHeaders(
  request: PreparedRequest,
  headers: Record<string, string>,
  body: Buffer | undefined,
  config: Config,
) {
  const has = (name: string) => Object.keys(headers).some((key) => key.toLowerCase() === name);
  return {
    ...(has('user-agent') ? {} : { 'user-agent': config.user_agent }),
    ...(has('accept') ? {} : { accept: request.format === 'raw' ? '*/*' : ACCEPT_READABLE }),
    // Only what readBody decodes, so the limits always apply to decoded bytes.
    'accept-encoding': 'gzip, br',
    ...headers,
    ...(body ? { 'content-length': String(body.length) } : {}),
  };
}

/** The method and body of the next hop (RFC 9110 §15.4: 303 always, and 301/302 after POST, become GET). */
function nextHop(status: number, method: string, body: Buffer | undefined) {
  const toGet = (status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST');
  return toGet ? { method: 'GET', body: undefined } : { method, body };
}

/**
 * Send the request and follow redirects, each hop admitted by the guard on its own (scheme, host,
 * fresh lookup, every address). A redirect that would resend a body to another origin is not
 * followed: its response is returned for the caller to decide.
 */
export async function fetchFollowingRedirects(
  request: PreparedRequest,
  deps: FetcherDeps,
  signal: AbortSignal,
): Promise<FinalResponse> {
  const { config } = deps;
  let { url, method, body } = request;
  let headers = request.headers;
  const redirects: string[] = [];
  for (;;) {
    const target = await deps.guard.admit(url, signal);
    const response = await send(target, {
      method,
      headers: outgoingHeaders(request, headers, body, config),
      body,
      firstByteTimeoutMs: config.first_byte_timeout_ms,
      maxHeaderBytes: config.max_header_bytes,
      signal,
      ca: deps.ca,
    });
    const location = response.headers.location;
    const status = response.statusCode ?? 0;
    if (!REDIRECT_STATUSES.has(status) || location === undefined || request.maxRedirects === 0)
      return { response, url, redirects };
    if (redirects.length >= request.maxRedirects) {
      response.destroy();
      throw webError('too_many_redirects', `more than ${request.maxRedirects} redirects (last from ${url.origin})`);
    }
    const next = redirectTarget(location, url, config);
    const hop = nextHop(status, method, body);
    const crossOrigin = next !== undefined && next.origin !== url.origin;
    if (hop.body && crossOrigin) return { response, url, redirects };
    response.destroy(); // the redirect's own body is never read
    if (!next) throw webError('bad_response', `${url.origin} redirected to an unusable URL`);
    if (crossOrigin || (url.protocol === 'https:' && next.protocol === 'http:')) headers = keepCrossOriginSafe(headers);
    if (!hop.body) headers = withoutBodyHeaders(headers);
    redirects.push(url.href);
    ({ method, body } = hop);
    url = next;
  }
}

/** A Location header as an absolute URL (undefined when unusable); the guard judges it on the next hop. */
function redirectTarget(location: string, from: URL, config: Config): URL | undefined {
  if (location.length > config.max_url_length) return undefined;
  try {
    const next = new URL(location, from);
    // Credentials in a Location are never sent.
    next.username = '';
    next.password = '';
    return next;
  } catch {
    return undefined;
  }
}
