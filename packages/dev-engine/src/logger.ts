import { type Logger, pino } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** JSON logs on stdout, one line per event. */
export function createLogger(level: LogLevel): Logger {
  return pino({ name: 'iii-dev-engine', level });
}
