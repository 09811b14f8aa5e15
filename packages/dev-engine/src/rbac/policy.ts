/**
 * RBAC on a worker-manager listener, as iii v0.22.1 does it (`rbac_config.rs`,
 * `rbac_session.rs`): the listener's `rbac` block, the per-connection session an auth function
 * returns, and the allow check every invocation from that session goes through:
 *   1. listed in the session's `forbidden_functions` -> denied;
 *   2. listed in `allowed_functions` -> allowed;
 *   3. an infrastructure function (channels, worker metadata, logs, baggage) -> allowed;
 *   4. matched by one of the listener's `expose_functions` filters -> allowed; otherwise denied.
 */
import { isPlainObject } from '../errors.js';

/** `match("glob")` on the id, or `{metadata: {key: exact | "match('glob')"}}` on the function's metadata. */
export type FunctionFilter = { kind: 'id'; pattern: string } | { kind: 'metadata'; expected: Record<string, unknown> };

export interface RbacConfig {
  auth_function_id?: string;
  expose_functions: FunctionFilter[];
  on_function_registration_function_id?: string;
  on_trigger_type_registration_function_id?: string;
  on_trigger_registration_function_id?: string;
}

/** What one connection on a listener may do (from its auth function, or the permissive default). */
export interface WorkerSession {
  rbac: RbacConfig | undefined;
  middleware_function_id: string | undefined;
  allowed_functions: string[];
  forbidden_functions: string[];
  allowed_trigger_types: string[] | undefined;
  allow_trigger_type_registration: boolean;
  allow_function_registration: boolean;
  context: unknown;
  function_registration_prefix: string | undefined;
}

/** Always allowed on an RBAC listener so connection setup, logging and context propagation work. */
const INFRASTRUCTURE = new Set([
  'engine::channels::create',
  'engine::workers::register',
  'engine::log::info',
  'engine::log::warn',
  'engine::log::error',
  'engine::log::debug',
  'engine::log::trace',
  'engine::baggage::get',
  'engine::baggage::set',
  'engine::baggage::get_all',
]);

/** `*` matches any run of characters; the pattern is anchored at both ends. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === value;
  if (!value.startsWith(parts[0]!) || !value.endsWith(parts[parts.length - 1]!)) return false;
  let pos = parts[0]!.length;
  const end = value.length - parts[parts.length - 1]!.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const found = value.indexOf(parts[i]!, pos);
    if (found === -1 || found + parts[i]!.length > end) return false;
    pos = found + parts[i]!.length;
  }
  return pos <= end;
}

const MATCH = /^match\((["'])(.*)\1\)$/;

function metadataMatches(expected: Record<string, unknown>, metadata: unknown): boolean {
  if (!isPlainObject(metadata)) return false;
  for (const [key, want] of Object.entries(expected)) {
    const have = metadata[key];
    const glob = typeof want === 'string' ? MATCH.exec(want)?.[2] : undefined;
    if (glob !== undefined) {
      if (typeof have !== 'string' || !wildcardMatch(glob, have)) return false;
    } else if (JSON.stringify(have) !== JSON.stringify(want)) return false;
  }
  return true;
}

export function filterMatches(filter: FunctionFilter, functionId: string, metadata: unknown): boolean {
  return filter.kind === 'id' ? wildcardMatch(filter.pattern, functionId) : metadataMatches(filter.expected, metadata);
}

/** The allow check, in the engine's order. A session without an `rbac` block allows everything. */
export function isFunctionAllowed(session: WorkerSession, functionId: string, metadata: unknown): boolean {
  if (session.forbidden_functions.includes(functionId)) return false;
  if (session.allowed_functions.includes(functionId)) return true;
  if (INFRASTRUCTURE.has(functionId)) return true;
  if (!session.rbac) return true;
  return session.rbac.expose_functions.some((f) => filterMatches(f, functionId, metadata));
}

export function forbiddenMessage(functionId: string): string {
  return `function '${functionId}' not allowed (add to rbac.expose_functions | remove from rbac.forbidden_functions)`;
}

/** Parse `expose_functions` entries; throws a message naming the bad entry. */
export function parseFilters(entries: unknown): FunctionFilter[] {
  if (entries === undefined || entries === null) return [];
  if (!Array.isArray(entries)) throw new Error('`expose_functions` must be a list');
  return entries.map((entry, i) => {
    if (typeof entry === 'string') {
      const glob = MATCH.exec(entry.trim())?.[2];
      if (glob === undefined)
        throw new Error(`expose_functions[${i}]: expected match("pattern"), got ${JSON.stringify(entry)}`);
      return { kind: 'id', pattern: glob };
    }
    if (isPlainObject(entry) && isPlainObject(entry.metadata) && Object.keys(entry).length === 1)
      return { kind: 'metadata', expected: entry.metadata };
    throw new Error(`expose_functions[${i}]: expected match("pattern") or {metadata: {...}}`);
  });
}

/** The session of a connection on a listener without an auth function. */
export function defaultSession(rbac: RbacConfig | undefined, middleware: string | undefined): WorkerSession {
  return {
    rbac,
    middleware_function_id: middleware,
    allowed_functions: [],
    forbidden_functions: [],
    allowed_trigger_types: undefined,
    allow_trigger_type_registration: true,
    allow_function_registration: true,
    context: {},
    function_registration_prefix: undefined,
  };
}
