import { model } from '@iii-harness/types';
import { z } from 'zod';
import { deniedCheck } from '../policy-view.js';
import { buildNativeTools } from '../tools.js';
import type { Turn } from '../turn.js';

/** Learn the model's limits and price from the catalog (when it knows the model) and fix the tools. */
export async function provisioning(turn: Turn): Promise<void> {
  const { bus, config } = turn.deps;
  const record = turn.record;
  const found = await bus
    .call('models::get', { provider: record.provider, model_id: record.model }, { schema: z.object({ model }) })
    .catch(() => undefined);
  if (found) {
    record.context_window = found.model.context_window;
    if (found.model.pricing) record.pricing = found.model.pricing;
  }
  if (record.exposure === 'native')
    record.native_tools = await buildNativeTools(
      bus,
      record,
      deniedCheck(bus, config.policy_timeout_ms),
      config.max_native_tools,
    );
  await turn.moveTo('assistant_streaming');
}
