import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

/** Keys whose values are secrets wherever they appear in a log object. */
const SECRET_KEY =
  /(^|_|-)(api[_-]?key|apikey|token|access[_-]?token|refresh[_-]?token|secret|password|passwd|authorization|cookie|credentials?|private[_-]?key|x-api-key)$/i;
export const REDACTED = '[redacted]';

/** Secret values seen at run time (API keys loaded from env or the vault): masked in every string. */
const knownSecrets = new Set<string>();

/** Mask this value wherever it appears in later log lines. Values shorter than 8 chars are ignored. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 8) knownSecrets.add(value);
}

export function maskSecrets(text: string): string {
  let masked = text;
  for (const secret of knownSecrets) if (masked.includes(secret)) masked = masked.split(secret).join(REDACTED);
  return masked;
}

/** A copy of `value` with secret-named keys and known secret values redacted, at any depth. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return knownSecrets.size ? maskSecrets(value) : value;
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error)
    return { type: value.name, message: redact(value.message, depth + 1), stack: redact(value.stack, depth + 1) };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value))
    out[key] = SECRET_KEY.test(key) && item != null ? REDACTED : redact(item, depth + 1);
  return out;
}

export interface LoggerOptions {
  /** The worker name; carried on every line. */
  worker: string;
  level?: LevelWithSilent;
  /** Human-readable output. Defaults to true when stderr is a TTY. */
  pretty?: boolean;
  /** Where lines go (tests capture here). Defaults to stderr. */
  destination?: DestinationStream;
}

/** The pino logger every worker uses: JSON by default, pretty on a TTY, secrets redacted by key and value. */
export function createLogger(options: LoggerOptions): Logger {
  const usePretty = options.pretty ?? (options.destination === undefined && process.stderr.isTTY === true);
  const destination =
    options.destination ??
    (usePretty ? pretty({ colorize: true, destination: 2, sync: true }) : pino.destination({ dest: 2, sync: true }));
  return pino(
    {
      level: options.level ?? 'info',
      base: { worker: options.worker },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: (object) => redact(object) as Record<string, unknown> },
      hooks: {
        // The message string is not part of the object `formatters.log` sees, so mask it here.
        logMethod(args, method) {
          const masked = knownSecrets.size
            ? args.map((arg) => (typeof arg === 'string' ? maskSecrets(arg) : arg))
            : args;
          return method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
