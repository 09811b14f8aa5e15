import { costOf, type Usage } from '@iii-harness/types';
import type { TurnRecord } from './record.js';

/** Add one generation's usage to the turn, and its cost when the model's price is known. */
export function addUsage(record: TurnRecord, usage: Usage): void {
  const total = record.usage;
  total.input_tokens += usage.input_tokens;
  total.output_tokens += usage.output_tokens;
  total.cache_read_tokens += usage.cache_read_tokens ?? 0;
  total.cache_write_tokens += usage.cache_write_tokens ?? 0;
  if (usage.reasoning_tokens) total.reasoning_tokens = (total.reasoning_tokens ?? 0) + usage.reasoning_tokens;
  if (record.pricing) record.cost_usd = (record.cost_usd ?? 0) + costOf(usage, record.pricing);
}
