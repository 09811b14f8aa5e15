import { costOf, type Usage } from '@iii-harness/types';
import type { TurnRecord } from './record.js';

/** The turn's usage with one more generation's added, and its cost when the model's price is known. */
export function withUsage(
  record: Pick<TurnRecord, 'usage' | 'pricing' | 'cost_usd'>,
  usage: Usage,
): Pick<TurnRecord, 'usage' | 'cost_usd'> {
  const total = record.usage;
  const sum: Usage = {
    input_tokens: total.input_tokens + usage.input_tokens,
    output_tokens: total.output_tokens + usage.output_tokens,
    cache_read_tokens: total.cache_read_tokens + (usage.cache_read_tokens ?? 0),
    cache_write_tokens: total.cache_write_tokens + (usage.cache_write_tokens ?? 0),
    ...(total.reasoning_tokens || usage.reasoning_tokens
      ? { reasoning_tokens: (total.reasoning_tokens ?? 0) + (usage.reasoning_tokens ?? 0) }
      : {}),
  };
  return {
    usage: sum,
    ...(record.pricing ? { cost_usd: (record.cost_usd ?? 0) + costOf(usage, record.pricing) } : {}),
  };
}
