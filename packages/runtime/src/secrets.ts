/**
 * Secret masking, by key name and by value, for everything that leaves a process: log lines,
 * errors on the wire, agent events. Values are registered by the code that learns them — the
 * vault when it reads a credential, the harness when it resolves one, a provider when it gets its
 * key — and, at worker start, from the environment (`registerEnvSecrets`), so even a process that
 * never asked for a key masks the ones its environment holds.
 */

/** Keys whose values are secrets wherever they appear in a logged or emitted object. */
const SECRET_KEY =
  /(^|_|-)(api[_-]?key|apikey|token|access[_-]?token|refresh[_-]?token|secret|password|passwd|authorization|cookie|credentials?|private[_-]?key|x-api-key)$/i;

/**
 * Environment variables that hold secrets: ANTHROPIC_API_KEY, OPENAI_API_KEY, MOONSHOT_API_KEY,
 * IIH_CREDENTIALS_KEY, GITHUB_TOKEN, …: any name ending in one of these words.
 */
const SECRET_ENV_NAME =
  /(^|_)(API_?KEY|TOKEN|SECRET|SECRET_KEY|PASSWORD|PASSWD|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?_KEY)$/i;

export const REDACTED = '[redacted]';

/** Shorter values are not masked: they would mask ordinary words. */
export const MIN_SECRET_LENGTH = 8;

const knownSecrets = new Set<string>();

/** Mask this value wherever it appears from now on. Values shorter than 8 characters are ignored. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= MIN_SECRET_LENGTH) knownSecrets.add(value);
}

/** Register the value of every environment variable whose name says it holds a secret; returns the names. */
export function registerEnvSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  const names = Object.keys(env).filter((name) => SECRET_ENV_NAME.test(name) && env[name]);
  for (const name of names) registerSecret(env[name]);
  return names;
}

export const hasSecrets = (): boolean => knownSecrets.size > 0;

/** The text with every registered secret value replaced by `[redacted]`. */
export function maskSecrets(text: string): string {
  let masked = text;
  for (const secret of knownSecrets) if (masked.includes(secret)) masked = masked.split(secret).join(REDACTED);
  return masked;
}

/** Whether a key's name says its value is a secret. */
export const isSecretKey = (key: string): boolean => SECRET_KEY.test(key);

const MAX_DEPTH = 64;

/**
 * A copy of `value` with secret-named keys and registered secret values redacted, at any depth
 * (beyond 64 levels the rest is replaced, never passed through unchecked). Errors become
 * `{type, message, stack}`.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return knownSecrets.size ? maskSecrets(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return REDACTED;
  if (value instanceof Error)
    return { type: value.name, message: redact(value.message, depth + 1), stack: redact(value.stack, depth + 1) };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value))
    out[key] = isSecretKey(key) && item != null ? REDACTED : redact(item, depth + 1);
  return out;
}

/** Like `redact`, by value only: for data whose key names are not ours to judge (a call's result). */
export function maskSecretValues<T>(value: T, depth = 0): T {
  if (!knownSecrets.size) return value;
  if (typeof value === 'string') return maskSecrets(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return REDACTED as T;
  if (Array.isArray(value)) return value.map((item) => maskSecretValues(item, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = maskSecretValues(item, depth + 1);
  return out as T;
}
