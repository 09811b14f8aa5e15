import { type Bus, HarnessError, matchesAnyGlob } from '@iii-harness/runtime';
import { contracts, type JsonObject } from '@iii-harness/types';
import type { TurnRecord } from './record.js';

/**
 * The model discovers functions through the engine's catalogue, seen through the policy: what
 * the policy denies (and what this run may not call) is not listed and has no info.
 * `isDenied` asks the policy about one function.
 */
export async function discover(
  bus: Bus,
  record: Pick<TurnRecord, 'functions'>,
  functionId: string,
  payload: JsonObject,
  isDenied: (id: string) => Promise<boolean>,
): Promise<unknown> {
  const visible = async (id: string) =>
    matchesAnyGlob(record.functions, id) && !id.startsWith('turn::') && !(await isDenied(id));
  if (functionId === 'engine::functions::list') {
    const result = await bus.call(contracts.engine.functionsList, payload);
    const checks = await Promise.all(result.functions.map((f) => visible(f.function_id)));
    return { ...result, functions: result.functions.filter((_, i) => checks[i]) };
  }
  const target = payload.function_id;
  if (typeof target !== 'string' || !(await visible(target)))
    throw new HarnessError('not_found', `no function ${String(target)} is available to you`);
  return bus.call(contracts.engine.functionsInfo, { function_id: target });
}
