import { readFileSync } from 'node:fs';
import type { LevelWithSilent } from 'pino';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { formatZodIssues } from './errors.js';
import { DEFAULT_DRAIN_MS } from './lifecycle.js';

/** A startup problem the operator must fix; the process exits with code 2 and this message. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_III_URL = 'ws://127.0.0.1:49134';
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface WorkerFlags {
  url?: string;
  config?: string;
  logLevel?: LevelWithSilent;
  healthPort?: string;
  healthHost?: string;
  drainMs?: string;
  help: boolean;
  version: boolean;
}

/**
 * The flags every worker accepts: `--url`, `--config <yaml>`, `--log-level`, `--health-port`,
 * `--health-host`, `--drain-ms`, `--help`, `--version`.
 */
export function parseWorkerFlags(argv: readonly string[]): WorkerFlags {
  const flags: WorkerFlags = { help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new ConfigError(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--help':
      case '-h':
        flags.help = true;
        break;
      case '--version':
        flags.version = true;
        break;
      case '--url':
        flags.url = value();
        break;
      case '--config':
        flags.config = value();
        break;
      case '--health-port':
        flags.healthPort = value();
        break;
      case '--health-host':
        flags.healthHost = value();
        break;
      case '--drain-ms':
        flags.drainMs = value();
        break;
      case '--log-level': {
        const level = value();
        if (!(LEVELS as readonly string[]).includes(level))
          throw new ConfigError(`--log-level must be one of ${LEVELS.join(', ')}; got "${level}"`);
        flags.logLevel = level as LevelWithSilent;
        break;
      }
      default:
        throw new ConfigError(`unknown option "${arg}" (see --help)`);
    }
  }
  return flags;
}

export interface LifecycleSettings {
  /** Port of the /healthz and /readyz endpoints; none when undefined. */
  healthPort?: number;
  healthHost?: string;
  drainMs: number;
}

function nonNegativeInt(name: string, text: string, max: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > max)
    throw new ConfigError(`${name} must be a whole number from 0 to ${max}; got "${text}"`);
  return Number(text);
}

/** Probe and shutdown settings: flags first, then `IIH_HEALTH_PORT`, `IIH_HEALTH_HOST`, `IIH_DRAIN_MS`. */
export function lifecycleSettings(flags: WorkerFlags, env: NodeJS.ProcessEnv = process.env): LifecycleSettings {
  const pick = (flag: string | undefined, flagName: string, variable: string) => {
    if (flag !== undefined) return { name: flagName, text: flag };
    const fromEnv = env[variable];
    return fromEnv ? { name: variable, text: fromEnv } : undefined;
  };
  const port = pick(flags.healthPort, '--health-port', 'IIH_HEALTH_PORT');
  const drain = pick(flags.drainMs, '--drain-ms', 'IIH_DRAIN_MS');
  const host = flags.healthHost ?? (env.IIH_HEALTH_HOST || undefined);
  return {
    ...(port ? { healthPort: nonNegativeInt(port.name, port.text, 65_535) } : {}),
    ...(host ? { healthHost: host } : {}),
    drainMs: drain ? nonNegativeInt(drain.name, drain.text, 600_000) : DEFAULT_DRAIN_MS,
  };
}

/** Environment values are strings; numbers, booleans and JSON literals are parsed so schemas see their types. */
function envValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (/^(true|false|null|-?\d+(\.\d+)?)$/.test(trimmed) || /^[[{"]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return raw;
    }
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === null || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

function readSection(file: string, section: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `cannot read config file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(error as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new ConfigError(`config file ${file} must be a mapping of worker name to settings`);
  const value = (doc as Record<string, unknown>)[section];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`config file ${file}: section "${section}" must be a mapping`);
  return { ...(value as Record<string, unknown>) };
}

export interface LoadConfigOptions<C> {
  /** The worker's section name in the YAML file. */
  worker: string;
  schema: z.ZodType<C>;
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Documented overrides: environment variable → dotted config key. Env wins over the file. */
  envOverrides?: Record<string, string>;
}

/** The worker's config: its YAML section, overridden by env, validated by its schema. Errors name the key. */
export function loadWorkerConfig<C>(options: LoadConfigOptions<C>): C {
  const raw = options.file ? readSection(options.file, options.worker) : {};
  const env = options.env ?? process.env;
  for (const [variable, path] of Object.entries(options.envOverrides ?? {})) {
    const value = env[variable];
    if (value !== undefined && value !== '') setPath(raw, path, envValue(value));
  }
  const parsed = options.schema.safeParse(raw);
  if (!parsed.success) {
    const source = options.file ? ` (file ${options.file}, section "${options.worker}")` : '';
    throw new ConfigError(`invalid config for ${options.worker}${source}: ${formatZodIssues(parsed.error)}`);
  }
  return parsed.data;
}
