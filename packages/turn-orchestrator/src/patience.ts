import { HarnessError, isHarnessError } from '@iii-harness/runtime';

/**
 * Whether a failed call means "the worker is not there right now" — not registered (restarting),
 * gone mid-call, or not answering — as opposed to an answer. Such a call is worth repeating once
 * the worker is back, provided repeating it is safe (every call a turn repeats is idempotent).
 */
export function isAbsence(error: unknown): boolean {
  if (!isHarnessError(error)) return false;
  if (error.reason === 'function_not_found') return true;
  return (error.code === 'unavailable' || error.code === 'timeout') && error.retryable;
}

export interface Patience {
  /** Give up after this long (from the first failure). */
  boundMs: number;
  /** Told once, at the first failure, when the turn starts waiting (the turn shows it). */
  onWait?(functionId: string, reason: string, givesUpAt: number): void | Promise<void>;
  /** Stops the waiting early (e.g. the turn was aborted or taken over). */
  stillWanted?(): boolean | Promise<boolean>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Run `call`; while it fails because its worker is absent, wait with backoff (100 ms doubling to
 * 2 s) and run it again, up to `boundMs`; then fail with `unavailable/waited_out` naming the function.
 * A provider or the session store restarting costs the turn a pause, not its life.
 */
export async function waitOut<T>(functionId: string, call: () => Promise<T>, patience: Patience): Promise<T> {
  let givesUpAt: number | undefined;
  let delay = 100;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isAbsence(error)) throw error;
      const now = Date.now();
      if (givesUpAt === undefined) {
        givesUpAt = now + patience.boundMs;
        await patience.onWait?.(functionId, (error as HarnessError).message, givesUpAt);
      }
      if (now >= givesUpAt || (patience.stillWanted && !(await patience.stillWanted())))
        throw new HarnessError(
          'unavailable',
          `${functionId} was not available for ${patience.boundMs} ms: ${(error as HarnessError).message}`,
          { reason: 'waited_out', retryable: false },
        );
      await sleep(Math.min(delay, givesUpAt - now));
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
