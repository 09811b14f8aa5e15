import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import { hasSecrets, maskSecrets, redact } from './secrets.js';

export type { Logger } from 'pino';

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
          const masked = hasSecrets() ? args.map((arg) => (typeof arg === 'string' ? maskSecrets(arg) : arg)) : args;
          return method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
