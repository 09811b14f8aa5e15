/**
 * Calling an HTTP-invoked function: the payload as a JSON body (method default POST) with
 * `x-iii-Function-Path`, `x-iii-Invocation-ID`, `x-iii-Timestamp`, the registration's headers
 * and its auth (`hmac` signature, `bearer` token, `api_key` header — secrets read from the
 * engine's environment by name, never sent over the wire). Redirects are not followed. A status
 * below 400 is a success: an empty body is no result, a JSON body is the result; 4xx/5xx become
 * the body's `{error: {code, message}}` or `http_error`.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { EngineError } from '../engine-api.js';
import { isPlainObject } from '../errors.js';
import { type UrlSecurity, urlProblem } from './url-policy.js';

export type HttpAuth =
  | { type: 'hmac'; secret: string }
  | { type: 'bearer'; token: string }
  | { type: 'api_key'; header: string; value: string };

export interface HttpEndpoint {
  functionPath: string;
  url: string;
  method: string;
  timeoutMs: number;
  headers: Record<string, string>;
  auth?: HttpAuth;
}

/** `sha256=<hex HMAC-SHA256 of "<timestamp>:<base64 body>">`, the engine's signature. */
export function signRequest(body: string, secret: string, timestamp: number): string {
  const payload = `${timestamp}:${Buffer.from(body).toString('base64')}`;
  return `sha256=${createHmac('sha256', secret).update(payload).digest('hex')}`;
}

function failure(status: number, text: string): EngineError {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isPlainObject(parsed) && isPlainObject(parsed.error)) {
      const e = parsed.error;
      return new EngineError(
        typeof e.code === 'string' ? e.code : 'http_error',
        typeof e.message === 'string' ? e.message : 'HTTP request failed',
      );
    }
  } catch {
    // not JSON: the generic error below
  }
  return new EngineError('http_error', `HTTP ${status}`);
}

export async function invokeHttp(endpoint: HttpEndpoint, data: unknown, security: UrlSecurity): Promise<unknown> {
  const problem = await urlProblem(endpoint.url, security);
  if (problem) throw new EngineError('url_validation_failed', problem);
  const body = JSON.stringify(data ?? null);
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-iii-Function-Path': endpoint.functionPath,
    'x-iii-Invocation-ID': randomUUID(),
    'x-iii-Timestamp': String(timestamp),
    ...endpoint.headers,
  };
  const auth = endpoint.auth;
  if (auth?.type === 'hmac') headers['x-iii-Signature'] = signRequest(body, auth.secret, timestamp);
  else if (auth?.type === 'bearer') headers.authorization = `Bearer ${auth.token}`;
  else if (auth?.type === 'api_key') headers[auth.header] = auth.value;

  let response: Response;
  try {
    response = await fetch(endpoint.url, {
      method: endpoint.method,
      headers,
      body: endpoint.method === 'GET' ? undefined : body,
      redirect: 'manual',
      signal: AbortSignal.timeout(endpoint.timeoutMs),
    });
  } catch (error) {
    throw new EngineError('http_request_failed', (error as Error).message);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new EngineError('http_response_failed', (error as Error).message);
  }
  if (response.status >= 400) throw failure(response.status, text);
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    if (response.status >= 200 && response.status < 300)
      throw new EngineError('invalid_response', (error as Error).message);
    return undefined; // 1xx/3xx with a non-JSON body: a result-less success
  }
}
