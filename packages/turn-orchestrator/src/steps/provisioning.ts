import type { TurnRecord } from '../record.js';
import { buildNativeTools } from '../tools.js';
import type { StepResult, TurnRun } from '../turn.js';

/** Learn the model's limits and price from the catalog (when it knows the model) and fix the tools. */
export async function provisioning(run: TurnRun): Promise<StepResult> {
  const { bus, caches, config } = run.deps;
  const record = run.record;
  const changes: Partial<TurnRecord> = {};
  const model = await caches.model(record.provider, record.model);
  if (model) {
    changes.context_window = model.context_window;
    if (model.pricing) changes.pricing = model.pricing;
  }
  if (record.exposure === 'native')
    changes.native_tools = await buildNativeTools(bus, record, run.gate.isDenied, config.max_native_tools);
  return { outcome: 'provisioned', changes };
}
