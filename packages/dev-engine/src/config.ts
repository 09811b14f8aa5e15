/**
 * Reads the real engine's `config.yaml` format: top-level `workers:` (or legacy `modules:`),
 * each entry `{name, config?}`. `${VAR}` / `${VAR:default}` are expanded in the raw text before
 * YAML parsing (like the engine, comments included). Whatever the dev engine does not implement
 * is rejected with a message naming it, so a config never silently means something else here.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { HttpConfig } from './builtins/http.js';
import type { StateConfig } from './builtins/state.js';
import type { HttpFunctionsConfig } from './http-functions/index.js';
import { DEFAULT_URL_SECURITY } from './http-functions/url-policy.js';
import { DEFAULT_OBSERVABILITY, type ObservabilityConfig } from './observability/index.js';
import { parseFilters, type RbacConfig } from './rbac/policy.js';

/** The real engine's default for an adapter's `redis_url`. */
export const DEFAULT_REDIS_URL = 'redis://localhost:6379';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface WorkerManagerConfig {
  /** The entry's name (`iii-worker-manager`, `iii-worker-manager#rbac`, ...). */
  name?: string;
  port?: number;
  host?: string;
  handshake_timeout_ms?: number;
  /** Every call through this listener goes to this function instead (see rbac/gate.ts). */
  middleware_function_id?: string;
  rbac?: RbacConfig;
}

/** A worker's `redis` adapter: its data (or messages, or locks) shared with every engine on that Redis. */
export interface RedisAdapterConfig {
  name: 'redis';
  /** `adapter.config.redis_url` (default `redis://localhost:6379`, as in the engine). */
  redis_url: string;
}

/** Which adapter a worker uses: absent = the in-process default (SQLite / in-memory). */
export interface AdapterChoice {
  adapter?: RedisAdapterConfig;
}

/** The builtins to run; an absent section means that worker is not enabled. */
export interface EngineConfig {
  /** The first `iii-worker-manager` entry: the main worker port. */
  workerManager: WorkerManagerConfig;
  /** Further `iii-worker-manager` entries: more listeners, typically an RBAC port. */
  extraWorkerManagers?: WorkerManagerConfig[];
  /** `iii-http-functions` (off unless listed, as in the engine). */
  httpFunctions?: HttpFunctionsConfig;
  state?: StateConfig & AdapterChoice;
  stream?: AdapterChoice;
  http?: HttpConfig;
  pubsub?: AdapterChoice;
  cron?: AdapterChoice;
  /** `iii-queue` (or `queue`) entry's `config`, handed to installQueues untouched. */
  queue?: Record<string, unknown>;
  /** `iii-observability` (always on, like the engine's mandatory worker; defaults without an entry). */
  observability?: ObservabilityConfig;
  /** Non-fatal notes (ignored keys, unserved ports) for the startup log. */
  warnings: string[];
}

/**
 * Without a config file every builtin is on. (Friendlier than the `iii` binary, which only
 * starts the mandatory workers and needs iii-state, iii-stream, iii-http, ... listed.)
 */
export function defaultConfig(): EngineConfig {
  return { workerManager: {}, state: {}, stream: {}, http: {}, pubsub: {}, cron: {}, queue: {}, warnings: [] };
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

export function expandEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(VAR, (_m, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new ConfigError(`environment variable ${name} is not set and has no default (write \${${name}:default})`);
  });
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): EngineConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  return parseConfig(text, env, path);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const IGNORED_WORKERS = new Set(['iii-telemetry', 'configuration']);
const EXTERNAL_ALIASES: Record<string, string> = {
  http: 'iii-http',
  state: 'iii-state',
  cron: 'iii-cron',
  pubsub: 'iii-pubsub',
  stream: 'iii-stream',
};

export function parseConfig(text: string, env: NodeJS.ProcessEnv = process.env, source = 'config.yaml'): EngineConfig {
  let doc: unknown;
  try {
    doc = parseYaml(expandEnv(text, env));
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${source}: invalid YAML: ${(error as Error).message}`);
  }
  const config: EngineConfig = { workerManager: {}, warnings: [] };
  if (doc === null || doc === undefined) return config;
  if (!isObj(doc)) throw new ConfigError(`${source}: the top level must be a mapping with a \`workers:\` list`);
  for (const key of Object.keys(doc))
    if (key !== 'workers' && key !== 'modules')
      throw new ConfigError(`${source}: unknown top-level key \`${key}\` (expected \`workers\`)`);
  if ('workers' in doc && 'modules' in doc)
    throw new ConfigError(`${source}: use either \`workers\` or the legacy \`modules\`, not both`);
  const entries = doc.workers ?? doc.modules ?? [];
  if (!Array.isArray(entries)) throw new ConfigError(`${source}: \`workers\` must be a list`);

  const seen = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    if (!isObj(entry) || typeof entry.name !== 'string')
      throw new ConfigError(`${source}: workers[${i}] needs a \`name\``);
    const name = entry.name;
    for (const key of Object.keys(entry)) {
      if (key === 'image')
        throw new ConfigError(
          `${source}: worker "${name}": \`image\` (OCI workers) is not supported by the dev engine; run that worker yourself and point it at the engine`,
        );
      if (key !== 'name' && key !== 'config')
        throw new ConfigError(`${source}: worker "${name}": unknown key \`${key}\``);
    }
    const canonical = name === 'queue' ? 'iii-queue' : name;
    if (seen.has(canonical) && canonical !== 'iii-worker-manager')
      throw new ConfigError(
        `${source}: worker "${name}" is listed twice${name === 'queue' || name === 'iii-queue' ? ' (`queue` and `iii-queue` are the same worker here)' : ''}`,
      );
    seen.add(canonical);
    const raw = entry.config ?? {};
    if (!isObj(raw)) throw new ConfigError(`${source}: worker "${name}": \`config\` must be a mapping`);
    applyWorker(config, name, raw, `${source}: worker "${name}"`);
  }
  return config;
}

function applyWorker(config: EngineConfig, name: string, raw: Obj, where: string): void {
  if (name === 'iii-worker-manager' || name.startsWith('iii-worker-manager#')) {
    const manager = { name, ...workerManagerConfig(raw, where) };
    if (config.workerManager.name === undefined) config.workerManager = manager;
    else {
      config.extraWorkerManagers ??= [];
      config.extraWorkerManagers.push(manager);
    }
    return;
  }
  switch (name) {
    case 'iii-http-functions':
      config.httpFunctions = httpFunctionsConfig(raw, where);
      return;
    case 'iii-state':
      config.state = {
        ...adapterChoice(raw, where, ['kv'], ['triggers_enabled', 'max_value_bytes'], config.warnings),
        triggers_enabled: optBool(raw, 'triggers_enabled', where),
        max_value_bytes: optInt(raw, 'max_value_bytes', where, 1),
      };
      return;
    case 'iii-stream':
      if ('auth_function' in raw)
        throw new ConfigError(
          `${where}: \`auth_function\` is not supported (the dev engine does not serve the stream client WebSocket)`,
        );
      config.stream = adapterChoice(raw, where, ['kv'], ['port', 'host'], config.warnings);
      if ('port' in raw || 'host' in raw)
        config.warnings.push(
          `${where}: port/host ignored: the stream client WebSocket (port 3112) is not served by the dev engine`,
        );
      return;
    case 'iii-http':
      config.http = httpConfig(raw, where, config.warnings);
      return;
    case 'iii-pubsub':
      config.pubsub = adapterChoice(raw, where, ['local', 'memory'], [], config.warnings);
      return;
    case 'iii-cron':
      config.cron = adapterChoice(raw, where, ['kv'], [], config.warnings);
      return;
    case 'iii-queue':
    case 'queue':
      config.queue = raw;
      return;
    case 'iii-engine-functions':
      return;
    case 'iii-observability':
      config.observability = observabilityConfig(raw, where, config.warnings);
      return;
    default:
      if (IGNORED_WORKERS.has(name)) {
        if (Object.keys(raw).length)
          config.warnings.push(
            `${where}: config ignored (telemetry and configuration storage are not implemented by the dev engine)`,
          );
        return;
      }
      if (EXTERNAL_ALIASES[name])
        throw new ConfigError(
          `${where}: "${name}" is the standalone registry worker; the dev engine implements the in-process builtin "${EXTERNAL_ALIASES[name]}" — list that name instead`,
        );
      throw new ConfigError(
        `${where}: unknown or unsupported worker "${name}"; the dev engine implements iii-worker-manager, iii-state, iii-stream, iii-http, iii-http-functions, iii-pubsub, iii-cron, iii-observability and iii-queue (alias queue)`,
      );
  }
}

function workerManagerConfig(raw: Obj, where: string): WorkerManagerConfig {
  // The engine's WorkerManagerConfig uses deny_unknown_fields.
  for (const key of Object.keys(raw))
    if (!['port', 'host', 'handshake_timeout_ms', 'middleware_function_id', 'rbac'].includes(key))
      throw new ConfigError(`${where}: unknown key \`${key}\``);
  const rbac = raw.rbac;
  if (rbac !== undefined && rbac !== null && !isObj(rbac))
    throw new ConfigError(`${where}: \`rbac\` must be a mapping`);
  return {
    port: optInt(raw, 'port', where, 0, 65535),
    host: optString(raw, 'host', where),
    handshake_timeout_ms: optInt(raw, 'handshake_timeout_ms', where, 1),
    middleware_function_id: optString(raw, 'middleware_function_id', where),
    rbac: isObj(rbac) ? rbacConfig(rbac, `${where} rbac`) : undefined,
  };
}

/** Unknown rbac keys are rejected (the engine ignores them, so a typo there would silently disarm a hook). */
function rbacConfig(raw: Obj, where: string): RbacConfig {
  const keys = [
    'auth_function_id',
    'expose_functions',
    'on_function_registration_function_id',
    'on_trigger_type_registration_function_id',
    'on_trigger_registration_function_id',
  ];
  for (const key of Object.keys(raw))
    if (!keys.includes(key)) throw new ConfigError(`${where}: unknown key \`${key}\``);
  let expose: RbacConfig['expose_functions'];
  try {
    expose = parseFilters(raw.expose_functions);
  } catch (error) {
    throw new ConfigError(`${where}: ${(error as Error).message}`);
  }
  return {
    auth_function_id: optString(raw, 'auth_function_id', where),
    expose_functions: expose,
    on_function_registration_function_id: optString(raw, 'on_function_registration_function_id', where),
    on_trigger_type_registration_function_id: optString(raw, 'on_trigger_type_registration_function_id', where),
    on_trigger_registration_function_id: optString(raw, 'on_trigger_registration_function_id', where),
  };
}

function httpFunctionsConfig(raw: Obj, where: string): HttpFunctionsConfig {
  for (const key of Object.keys(raw)) if (key !== 'security') throw new ConfigError(`${where}: unknown key \`${key}\``);
  const security = raw.security ?? {};
  if (!isObj(security)) throw new ConfigError(`${where}: \`security\` must be a mapping`);
  for (const key of Object.keys(security))
    if (!['url_allowlist', 'block_private_ips', 'require_https'].includes(key))
      throw new ConfigError(`${where} security: unknown key \`${key}\``);
  const d = DEFAULT_URL_SECURITY;
  return {
    security: {
      url_allowlist: optStrings(security, 'url_allowlist', `${where} security`) ?? d.url_allowlist,
      block_private_ips: optBool(security, 'block_private_ips', `${where} security`) ?? d.block_private_ips,
      require_https: optBool(security, 'require_https', `${where} security`) ?? d.require_https,
    },
  };
}

function httpConfig(raw: Obj, where: string, warnings: string[]): HttpConfig {
  const known = ['port', 'host', 'default_timeout', 'concurrency_request_limit', 'cors', 'middleware'];
  for (const key of Object.keys(raw))
    if (!known.includes(key)) warnings.push(`${where}: unknown key \`${key}\` ignored`);
  const cors = raw.cors;
  if (cors !== undefined && cors !== null && !isObj(cors))
    throw new ConfigError(`${where}: \`cors\` must be a mapping`);
  const middleware = raw.middleware ?? [];
  if (!Array.isArray(middleware) || !middleware.every((m) => isObj(m) && typeof m.function_id === 'string'))
    throw new ConfigError(`${where}: \`middleware\` must be a list of {function_id, phase?, priority?}`);
  return {
    port: optInt(raw, 'port', where, 0, 65535),
    host: optString(raw, 'host', where),
    default_timeout: optInt(raw, 'default_timeout', where, 1),
    concurrency_request_limit: optInt(raw, 'concurrency_request_limit', where, 1),
    cors: isObj(cors)
      ? {
          allowed_origins: optStrings(cors, 'allowed_origins', where),
          allowed_methods: optStrings(cors, 'allowed_methods', where),
        }
      : undefined,
    middleware: middleware as HttpConfig['middleware'],
  };
}

/** The real worker's keys (it uses deny_unknown_fields); those the dev engine does not act on are accepted with a warning. */
const OBSERVABILITY_IGNORED_KEYS = [
  'service_name',
  'service_version',
  'service_namespace',
  'endpoint',
  'sampling_ratio',
  'sampling',
  'live_spans',
  'metrics_enabled',
  'metrics_exporter',
  'metrics_retention_seconds',
  'metrics_max_count',
  'logs_exporter',
  'logs_batch_size',
  'logs_flush_interval_ms',
  'logs_sampling_ratio',
  'alerts',
  'level',
  'format',
  'collapse_spans',
];

function observabilityConfig(raw: Obj, where: string, warnings: string[]): ObservabilityConfig {
  const implemented = [
    'enabled',
    'exporter',
    'memory_max_spans',
    'trace_storage',
    'logs_enabled',
    'logs_max_count',
    'logs_retention_seconds',
    'logs_console_output',
  ];
  for (const key of Object.keys(raw)) {
    if (OBSERVABILITY_IGNORED_KEYS.includes(key))
      warnings.push(`${where}: \`${key}\` accepted and ignored by the dev engine`);
    else if (!implemented.includes(key)) throw new ConfigError(`${where}: unknown key \`${key}\``);
  }
  const exporter = optString(raw, 'exporter', where);
  if (exporter !== undefined && exporter !== 'memory' && exporter !== 'otlp' && exporter !== 'both')
    throw new ConfigError(`${where}: \`exporter\` must be memory, otlp or both`);
  if (exporter === 'otlp' || exporter === 'both')
    warnings.push(
      `${where}: OTLP export is not implemented by the dev engine (spans are ${exporter === 'both' ? 'only stored' : 'not stored'})`,
    );
  const storage = raw.trace_storage;
  if (storage !== undefined && storage !== null && !isObj(storage))
    throw new ConfigError(`${where}: \`trace_storage\` must be a mapping`);
  const d = DEFAULT_OBSERVABILITY;
  return {
    enabled: optBool(raw, 'enabled', where) ?? d.enabled,
    exporter: exporter ?? d.exporter,
    memory_max_spans: optInt(raw, 'memory_max_spans', where, 1) ?? d.memory_max_spans,
    span_retention_seconds: isObj(storage)
      ? (optInt(storage, 'retention_seconds', `${where} trace_storage`, 0) ?? d.span_retention_seconds)
      : d.span_retention_seconds,
    logs_enabled: optBool(raw, 'logs_enabled', where) ?? d.logs_enabled,
    logs_max_count: optInt(raw, 'logs_max_count', where, 1) ?? d.logs_max_count,
    logs_retention_seconds: optInt(raw, 'logs_retention_seconds', where, 1) ?? d.logs_retention_seconds,
    logs_console_output: optBool(raw, 'logs_console_output', where) ?? d.logs_console_output,
  };
}

/**
 * `adapter: {name, config?}`: the in-process default (`local` names, whose config is ignored:
 * data lives in SQLite under --data-dir) or `redis` with `config.redis_url`. Anything else is
 * named in the error.
 */
function adapterChoice(
  raw: Obj,
  where: string,
  local: string[],
  extraKeys: string[],
  warnings: string[],
): AdapterChoice {
  for (const key of Object.keys(raw))
    if (key !== 'adapter' && !extraKeys.includes(key)) warnings.push(`${where}: unknown key \`${key}\` ignored`);
  const a = raw.adapter;
  if (a === undefined || a === null) return {};
  if (!isObj(a) || typeof a.name !== 'string') throw new ConfigError(`${where}: \`adapter\` must be {name, config?}`);
  const adapterConfig = a.config ?? {};
  if (!isObj(adapterConfig)) throw new ConfigError(`${where}: \`adapter.config\` must be a mapping`);
  if (local.includes(a.name)) {
    if (Object.keys(adapterConfig).length)
      warnings.push(`${where}: adapter config ignored (the dev engine stores data in SQLite under --data-dir)`);
    return {};
  }
  if (a.name !== 'redis')
    throw new ConfigError(
      `${where}: adapter "${a.name}" is not supported by the dev engine (${[...local, 'redis'].map((n) => `"${n}"`).join(', ')})`,
    );
  for (const key of Object.keys(adapterConfig))
    if (key !== 'redis_url') warnings.push(`${where}: adapter.config.${key} ignored`);
  const url = adapterConfig.redis_url ?? DEFAULT_REDIS_URL;
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url))
    throw new ConfigError(`${where}: adapter.config.redis_url must be a redis:// or rediss:// URL`);
  return { adapter: { name: 'redis', redis_url: url } };
}

function optInt(raw: Obj, key: string, where: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v; // `${PORT}` expands to text
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${where}: \`${key}\` must be an integer between ${min} and ${max}`);
  return n;
}

function optString(raw: Obj, key: string, where: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ConfigError(`${where}: \`${key}\` must be a string`);
  return v;
}

function optBool(raw: Obj, key: string, where: string): boolean | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ConfigError(`${where}: \`${key}\` must be true or false`);
  return v;
}

function optStrings(raw: Obj, key: string, where: string): string[] | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    throw new ConfigError(`${where}: \`${key}\` must be a list of strings`);
  return v;
}
