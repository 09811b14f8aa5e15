import { z } from 'zod';

/**
 * `signed_reasoning`: the model's earlier reasoning is signed by its vendor and must be sent back
 * exactly as it was (Anthropic extended thinking): context compaction never rewrites such a turn.
 */
export const modelCapability = z.enum([
  'tools',
  'thinking',
  'images',
  'prompt_caching',
  'streaming',
  'signed_reasoning',
]);
export type ModelCapability = z.infer<typeof modelCapability>;

/** USD per million tokens. */
export const modelPricing = z.object({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cache_read: z.number().nonnegative().default(0),
  cache_write: z.number().nonnegative().default(0),
});
export type ModelPricing = z.infer<typeof modelPricing>;

/** A model as the catalog holds it: whatever its provider registered. */
export const model = z.object({
  id: z.string().min(1),
  provider: z.string().min(1),
  display_name: z.string().optional(),
  context_window: z.number().int().positive(),
  max_output_tokens: z.number().int().positive(),
  capabilities: z.array(modelCapability),
  /** Absent for local models and models whose price is unknown. */
  pricing: modelPricing.optional(),
});
export type Model = z.infer<typeof model>;

/** USD for token counts at a price (per million tokens). */
export function costOf(
  usage: { input_tokens: number; output_tokens: number; cache_read_tokens?: number; cache_write_tokens?: number },
  pricing: ModelPricing,
): number {
  return (
    (usage.input_tokens * pricing.input +
      usage.output_tokens * pricing.output +
      (usage.cache_read_tokens ?? 0) * pricing.cache_read +
      (usage.cache_write_tokens ?? 0) * pricing.cache_write) /
    1_000_000
  );
}
