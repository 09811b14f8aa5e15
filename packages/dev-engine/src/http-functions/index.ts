/**
 * `iii-http-functions`: a `registerfunction` carrying `invocation: {url, method?, timeout_ms?,
 * headers?, auth?}` becomes a function the engine calls over HTTP. Off unless listed in the
 * config, as in the real engine. The function belongs to the registering connection (removed
 * when it disconnects or unregisters it); its auth refers to environment variables of the
 * engine (`hmac.secret_key`, `bearer.token_key`, `api_key.value_key`), resolved at registration.
 */
import { EngineError } from '../engine-api.js';
import { isPlainObject } from '../errors.js';
import type { RegisterFunctionFrame } from '../protocol/frames.js';
import { type HttpAuth, type HttpEndpoint, invokeHttp } from './invoker.js';
import { type UrlSecurity, urlProblem } from './url-policy.js';

export interface HttpFunctionsConfig {
  security: UrlSecurity;
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

function envSecret(name: unknown, what: string, code: string): string {
  const value = typeof name === 'string' ? process.env[name] : undefined;
  if (value === undefined) throw new EngineError(code, `${what} not found: ${String(name)}`);
  return value;
}

function resolveAuth(auth: unknown): HttpAuth | undefined {
  if (auth === undefined || auth === null) return undefined;
  if (!isPlainObject(auth)) throw new EngineError('invalid_auth', 'auth must be {type, ...}');
  switch (auth.type) {
    case 'hmac':
      return { type: 'hmac', secret: envSecret(auth.secret_key, 'Secret', 'secret_not_found') };
    case 'bearer':
      return { type: 'bearer', token: envSecret(auth.token_key, 'Token', 'token_not_found') };
    case 'api_key':
      if (typeof auth.header !== 'string') throw new EngineError('invalid_auth', 'api_key auth needs a header');
      return { type: 'api_key', header: auth.header, value: envSecret(auth.value_key, 'API key', 'api_key_not_found') };
    default:
      throw new EngineError('invalid_auth', `unknown auth type ${JSON.stringify(auth.type)}`);
  }
}

/** Validate a registration and build the handler; throws EngineError (`url_validation_failed`, ...) to refuse it. */
export async function httpFunctionHandler(
  f: RegisterFunctionFrame,
  config: HttpFunctionsConfig,
): Promise<(data: unknown) => Promise<unknown>> {
  const inv = f.invocation!;
  const problem = await urlProblem(inv.url, config.security);
  if (problem) throw new EngineError('url_validation_failed', problem);
  const method = typeof inv.method === 'string' ? inv.method.toUpperCase() : 'POST';
  if (!METHODS.has(method)) throw new EngineError('invalid_method', `unsupported method ${method}`);
  const headers: Record<string, string> = {};
  if (isPlainObject(inv.headers))
    for (const [k, v] of Object.entries(inv.headers)) if (typeof v === 'string') headers[k] = v;
  const endpoint: HttpEndpoint = {
    functionPath: f.id,
    url: inv.url,
    method,
    timeoutMs: typeof inv.timeout_ms === 'number' && inv.timeout_ms > 0 ? inv.timeout_ms : 30_000,
    headers,
    auth: resolveAuth(inv.auth),
  };
  return (data) => invokeHttp(endpoint, data, config.security);
}
