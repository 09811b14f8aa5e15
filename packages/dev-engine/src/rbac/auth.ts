/**
 * Authenticating a connection on an RBAC listener: the auth function gets `{headers,
 * query_params (every value a list), ip_address}` and returns an AuthResult. A failing or empty
 * answer refuses the connection with the engine's `{"type":"error"}` frame (code AUTH_ERROR).
 */
import type { IncomingMessage } from 'node:http';
import type { EngineApi } from '../engine-api.js';
import { isPlainObject } from '../errors.js';
import { defaultSession, type RbacConfig, type WorkerSession } from './policy.js';

export interface AuthFailure {
  error: { code: 'AUTH_ERROR'; message: string };
}

const fail = (message: string): AuthFailure => ({ error: { code: 'AUTH_ERROR', message } });

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) out[req.rawHeaders[i]!.toLowerCase()] = req.rawHeaders[i + 1]!;
  return out;
}

function queryOf(req: IncomingMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of new URL(req.url ?? '/', 'http://engine').searchParams) {
    out[k] ??= [];
    out[k].push(v);
  }
  return out;
}

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;

export async function authenticate(
  api: EngineApi,
  rbac: RbacConfig | undefined,
  middleware: string | undefined,
  req: IncomingMessage,
): Promise<WorkerSession | AuthFailure> {
  const authFunction = rbac?.auth_function_id;
  if (authFunction === undefined) return defaultSession(rbac, middleware);
  let result: unknown;
  try {
    result = await api.call(authFunction, {
      headers: headersOf(req),
      query_params: queryOf(req),
      ip_address: req.socket.remoteAddress ?? '',
    });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  if (result === undefined || result === null) return fail('auth function returned no result');
  if (!isPlainObject(result)) return fail('auth function result is not an object');
  const list = (key: string) => {
    const v = result[key];
    if (v === undefined || v === null) return [];
    const parsed = strings(v);
    if (!parsed) throw new Error(`\`${key}\` must be a list of strings`);
    return parsed;
  };
  try {
    return {
      rbac,
      middleware_function_id: middleware,
      allowed_functions: list('allowed_functions'),
      forbidden_functions: list('forbidden_functions'),
      allowed_trigger_types:
        result.allowed_trigger_types === undefined || result.allowed_trigger_types === null
          ? undefined
          : list('allowed_trigger_types'),
      allow_trigger_type_registration: result.allow_trigger_type_registration === true,
      allow_function_registration: result.allow_function_registration !== false,
      context: result.context ?? {},
      function_registration_prefix:
        typeof result.function_registration_prefix === 'string' ? result.function_registration_prefix : undefined,
    };
  } catch (error) {
    return fail((error as Error).message);
  }
}
