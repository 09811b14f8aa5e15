import { type Bus, HarnessError } from '@iii-harness/runtime';
import { contracts, type JsonValue } from '@iii-harness/types';
import type { WorkerCaches } from './caches.js';

export interface HookOutcome {
  merged: unknown;
  /** False when hook-fanout is not installed or nobody subscribes. */
  published: boolean;
}

/**
 * Publish an agent hook through hook-fanout. Without hook-fanout installed the hook is skipped
 * (nobody can be listening); any other failure is reported so the caller can fail closed.
 */
export async function publishHook(
  bus: Bus,
  caches: WorkerCaches,
  topic: string,
  payload: unknown,
  mergeRule: 'first_block_wins' | 'pipeline_last_wins',
  timeoutMs: number,
): Promise<HookOutcome> {
  if (!(await caches.hasSubscribers(topic))) return { merged: undefined, published: false };
  try {
    const result = await bus.call(
      contracts.hookFanout.publishCollect,
      { topic, payload: payload as JsonValue, merge_rule: mergeRule, timeout_ms: timeoutMs },
      { timeoutMs: timeoutMs + 5_000 },
    );
    return { merged: result.merged, published: result.published };
  } catch (error) {
    if (error instanceof HarnessError && error.reason === 'function_not_found')
      return { merged: undefined, published: false };
    throw error;
  }
}
