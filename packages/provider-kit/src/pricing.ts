import type { ModelPricing } from '@iii-harness/types';

export { costOf } from '@iii-harness/types';

/**
 * List prices in USD per million tokens (input, output, cache read, cache write), matched by
 * model-id prefix; the longest matching prefix wins. Vendors change prices: update here, and
 * the catalog picks it up at the next model refresh.
 */
const PRICES: Record<string, Record<string, [number, number, number, number]>> = {
  anthropic: {
    'claude-opus-4': [15, 75, 1.5, 18.75],
    'claude-opus-4-5': [5, 25, 0.5, 6.25],
    'claude-opus-4-1': [15, 75, 1.5, 18.75],
    'claude-sonnet-4': [3, 15, 0.3, 3.75],
    'claude-3-7-sonnet': [3, 15, 0.3, 3.75],
    'claude-haiku-4-5': [1, 5, 0.1, 1.25],
    'claude-3-5-haiku': [0.8, 4, 0.08, 1],
  },
  openai: {
    'gpt-5': [1.25, 10, 0.125, 0],
    'gpt-5-mini': [0.25, 2, 0.025, 0],
    'gpt-5-nano': [0.05, 0.4, 0.005, 0],
    'gpt-4.1': [2, 8, 0.5, 0],
    'gpt-4.1-mini': [0.4, 1.6, 0.1, 0],
    'gpt-4.1-nano': [0.1, 0.4, 0.025, 0],
    'gpt-4o': [2.5, 10, 1.25, 0],
    'gpt-4o-mini': [0.15, 0.6, 0.075, 0],
    o3: [2, 8, 0.5, 0],
    'o4-mini': [1.1, 4.4, 0.275, 0],
  },
  kimi: {
    'kimi-k2': [0.6, 2.5, 0.15, 0],
    'kimi-k2-turbo': [1.15, 8, 0.15, 0],
    'kimi-k2-thinking': [0.6, 2.5, 0.15, 0],
    'moonshot-v1': [2, 5, 0, 0],
  },
};

export function priceFor(provider: string, modelId: string): ModelPricing | undefined {
  const table = PRICES[provider];
  if (!table) return undefined;
  const prefix = Object.keys(table)
    .filter((p) => modelId.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  if (!prefix) return undefined;
  const [input, output, cache_read, cache_write] = table[prefix]!;
  return { input, output, cache_read, cache_write };
}
