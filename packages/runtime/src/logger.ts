import { type Bindings, type DestinationStream, type Level, type LevelWithSilent, type Logger, pino } from 'pino';
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

const LINE_METHODS: ReadonlySet<string> = new Set<Level>(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);
const writeNothing = () => undefined;

/**
 * `parent.child(bindings())`, built only when it is used for something other than a line its
 * level drops: most handler calls log nothing, yet take their logger (destructuring reads it), and
 * a pino child costs more than many a call's own work. Anything else (a line that is written,
 * `child`, `level`, …) goes to the real child, built then once.
 */
export function lazyChild(parent: Logger, bindings: () => Bindings): Logger {
  let child: Logger | undefined;
  const real = () => (child ??= parent.child(bindings()));
  return new Proxy(parent, {
    get(_target, key) {
      if (!child && typeof key === 'string' && LINE_METHODS.has(key) && !parent.isLevelEnabled(key))
        return writeNothing;
      const target = real();
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set(_target, key, value) {
      return Reflect.set(real(), key, value);
    },
  });
}
