import type { Bus } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';

/** The error code a call failed with, or 'resolved': `expect(await codeOf(call)).toBe('not_found')`. */
export const codeOf = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'resolved',
    (error: { code: string }) => error.code,
  );

/** Every state scope and value the engine holds, in a stable order: to prove a call changed nothing. */
export async function stateSnapshot(bus: Bus): Promise<Record<string, string[]>> {
  const { groups } = await bus.call(contracts.engine.stateListGroups, {});
  const snapshot: Record<string, string[]> = {};
  for (const scope of groups)
    snapshot[scope] = ((await bus.call(contracts.engine.stateList, { scope })) ?? [])
      .map((v) => JSON.stringify(v))
      .sort();
  return snapshot;
}
