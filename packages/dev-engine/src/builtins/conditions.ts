import type { EngineApi } from '../engine-api.js';

/**
 * A trigger's `condition_function_id` check: the handler is skipped only when the condition
 * returns exactly `false` (null / no result means proceed); a failing condition also skips it.
 */
export async function conditionPasses(
  api: EngineApi,
  conditionFunctionId: string | undefined,
  event: unknown,
): Promise<boolean> {
  if (!conditionFunctionId) return true;
  try {
    return (await api.call(conditionFunctionId, event)) !== false;
  } catch (error) {
    api.logger.error({ err: error, condition_function_id: conditionFunctionId }, 'Error invoking condition function');
    return false;
  }
}

/** Optional string field of a trigger config (non-strings count as absent). */
export function configString(config: unknown, key: string): string | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const v = (config as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}
