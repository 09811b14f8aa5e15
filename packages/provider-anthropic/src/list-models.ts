import type Anthropic from '@anthropic-ai/sdk';
import { discoveredModel, type ModelDefaults, priceFor } from '@iii-harness/provider-kit';
import type { Model, ModelCapability } from '@iii-harness/types';

const BASE: ModelCapability[] = ['tools', 'images', 'prompt_caching', 'streaming'];
const THINKING: ModelCapability[] = [...BASE, 'thinking'];

/** For ids the table does not know: a window every current Claude has, a modest output cap. */
export const ANTHROPIC_DEFAULTS: ModelDefaults = {
  context_window: 200_000,
  max_output_tokens: 8192,
  capabilities: BASE,
};

/**
 * What the model list does not say (older API versions) for known families, by id prefix;
 * the longest prefix wins. [context window, max output tokens, extended thinking]
 */
const KNOWN: Record<string, [number, number, boolean]> = {
  'claude-opus-4-5': [200_000, 64_000, true],
  'claude-opus-4-1': [200_000, 32_000, true],
  'claude-opus-4': [200_000, 32_000, true],
  'claude-sonnet-4-5': [200_000, 64_000, true],
  'claude-sonnet-4': [200_000, 64_000, true],
  'claude-haiku-4-5': [200_000, 64_000, true],
  'claude-3-7-sonnet': [200_000, 64_000, true],
  'claude-3-5-sonnet': [200_000, 8192, false],
  'claude-3-5-haiku': [200_000, 8192, false],
  'claude-3-opus': [200_000, 4096, false],
  'claude-3-haiku': [200_000, 4096, false],
};

export function knownLimits(id: string): Partial<Model> {
  const prefix = Object.keys(KNOWN)
    .filter((p) => id.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  if (!prefix) return {};
  const [context_window, max_output_tokens, thinking] = KNOWN[prefix]!;
  return { context_window, max_output_tokens, capabilities: thinking ? THINKING : BASE };
}

/** One catalog model from an entry of `GET /v1/models`; limits the API reports win over the table. */
export function toModel(
  provider: string,
  info: Pick<Anthropic.ModelInfo, 'id' | 'display_name'> & Partial<Anthropic.ModelInfo>,
): Model {
  const known = knownLimits(info.id);
  const capabilities = info.capabilities ? reportedCapabilities(info.capabilities) : known.capabilities;
  return discoveredModel(provider, info.id, ANTHROPIC_DEFAULTS, {
    ...known,
    ...(info.max_input_tokens ? { context_window: info.max_input_tokens } : {}),
    ...(info.max_tokens ? { max_output_tokens: info.max_tokens } : {}),
    ...(capabilities ? { capabilities } : {}),
    ...(info.display_name ? { display_name: info.display_name } : {}),
    ...(priceFor(provider, info.id) ? { pricing: priceFor(provider, info.id) } : {}),
  });
}

function reportedCapabilities(caps: Anthropic.ModelCapabilities): ModelCapability[] {
  return [
    'tools',
    ...(caps.image_input?.supported === false ? [] : (['images'] as const)),
    'prompt_caching',
    'streaming',
    ...(caps.thinking?.supported ? (['thinking'] as const) : []),
  ];
}

/** Every page of `GET /v1/models` (the SDK follows `has_more` / `last_id`). */
export async function listModels(client: Anthropic, provider: string, signal: AbortSignal): Promise<Model[]> {
  const models: Model[] = [];
  for await (const info of client.models.list({ limit: 100 }, { signal })) models.push(toModel(provider, info));
  return models;
}
