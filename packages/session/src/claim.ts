import type { Bus } from '@iii-harness/runtime';

/**
 * Create-if-absent on one state key, built from the engine's atomic `state::update`.
 *
 * `merge {claimed: true, <id>: key}` creates a missing key as a stub and leaves an existing record
 * as it was (every record carries both fields with these values), and the update returns the
 * old value atomically: whoever sees no old value is the one writer of the record. Everybody else
 * waits for the record to be complete. If the writer died half-way, a waiter takes the write over
 * by bumping `takeovers`: only the caller whose increment lands on the count it observed wins.
 */

export type ClaimResult = { won: true } | { won: false; current: Record<string, unknown> };

export async function claimKey(bus: Bus, scope: string, key: string, idField: string): Promise<ClaimResult> {
  // The stub carries its key so that a cleanup through `state::list` (values only) can find it.
  const { old_value } = await bus.state.update<Record<string, unknown>>(scope, key, [
    { type: 'merge', value: { claimed: true, [idField]: key } },
  ]);
  return old_value === null || old_value === undefined ? { won: true } : { won: false, current: old_value };
}

export type WaitResult =
  | { ready: true; value: Record<string, unknown> }
  | { ready: false; value: Record<string, unknown> | undefined };

/**
 * Poll a key until `isReady(value)`, for at most `timeoutMs` (backing off from 2 ms to 50 ms).
 * `stopWhenAbsent`: give up as soon as the key is absent.
 */
export async function waitUntilReady(
  bus: Bus,
  scope: string,
  key: string,
  isReady: (value: Record<string, unknown>) => boolean,
  timeoutMs: number,
  { stopWhenAbsent = false } = {},
): Promise<WaitResult> {
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  let value: Record<string, unknown> | undefined;
  for (;;) {
    value = await bus.state.get<Record<string, unknown>>(scope, key);
    if (value !== undefined && isReady(value)) return { ready: true, value };
    if (Date.now() >= deadline || (stopWhenAbsent && value === undefined)) return { ready: false, value };
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 50);
  }
}

/** Take over a stalled write; true for exactly one of the callers that observed `observed`. */
export async function takeOver(
  bus: Bus,
  scope: string,
  key: string,
  observed: Record<string, unknown> | undefined,
): Promise<boolean> {
  const before = typeof observed?.takeovers === 'number' ? observed.takeovers : 0;
  const { new_value } = await bus.state.update<Record<string, unknown>>(scope, key, [
    { type: 'increment', path: 'takeovers', by: 1 },
  ]);
  return new_value?.takeovers === before + 1;
}
