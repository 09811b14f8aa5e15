import type { Model, ModelCapability } from '@iii-harness/types';

/** Defaults for a discovered model the vendor's list says little about. */
export interface ModelDefaults {
  context_window: number;
  max_output_tokens: number;
  capabilities: ModelCapability[];
}

/** A catalog model from a discovered id and what is known of it. */
export function discoveredModel(
  provider: string,
  id: string,
  defaults: ModelDefaults,
  known: Partial<Model> = {},
): Model {
  return {
    id,
    provider,
    context_window: known.context_window ?? defaults.context_window,
    max_output_tokens: Math.min(
      known.max_output_tokens ?? defaults.max_output_tokens,
      known.context_window ?? defaults.context_window,
    ),
    capabilities: known.capabilities ?? defaults.capabilities,
    ...(known.display_name ? { display_name: known.display_name } : {}),
    ...(known.pricing ? { pricing: known.pricing } : {}),
  };
}
