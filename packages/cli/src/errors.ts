import { isHarnessError } from '@iii-harness/runtime';

/**
 * Exit codes of every command. `send` maps a turn's outcome onto the same table, so a script can
 * branch on one set of numbers.
 */
export const EXIT = {
  ok: 0,
  /** Something failed: the turn, the engine, a worker. */
  failed: 1,
  /** The command was called wrong: unknown command or flag, bad argument, unknown session or provider. */
  usage: 2,
  /** The turn was aborted. */
  aborted: 3,
  /** `send --no-wait-approval`: the turn is parked on a call that needs a human. */
  waitingApproval: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error a person reads: one line, no stack, and the exit code it ends the process with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);

/** Harness error codes that mean "you named something wrong", not "it broke". */
const USAGE_CODES = new Set(['invalid_payload', 'not_found']);

/** Any thrown value as the one line we print, and the code we exit with. */
export function describeError(error: unknown): { message: string; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (isHarnessError(error))
    return {
      message: firstLine(error.message),
      exitCode: USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failed,
    };
  if (error instanceof Error) return { message: firstLine(error.message), exitCode: EXIT.failed };
  return { message: firstLine(String(error)), exitCode: EXIT.failed };
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? text;
  return line.length > 400 ? `${line.slice(0, 397)}...` : line;
}
