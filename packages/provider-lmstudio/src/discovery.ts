import { discoveredModel, type ListModelsContext, serverRoot, vendorJson } from '@iii-harness/provider-kit';
import type { Model, ModelCapability } from '@iii-harness/types';

/** An entry of LM Studio's `GET /api/v0/models` (every downloaded model, loaded or not). */
export interface LmStudioListedModel {
  id: string;
  type?: 'llm' | 'vlm' | 'embeddings' | string;
  state?: 'loaded' | 'not-loaded' | string;
  max_context_length?: number;
  /** The context a loaded model was loaded with (newer LM Studio builds; absent otherwise). */
  loaded_context_length?: number;
  /** Newer builds list capabilities such as `tool_use`; older ones say nothing (tools assumed). */
  capabilities?: string[];
  publisher?: string;
}

export const LMSTUDIO_DEFAULTS = {
  context_window: 8_192,
  max_output_tokens: 8_192,
  capabilities: ['tools', 'streaming'] as ModelCapability[],
};

/**
 * A listed model in catalog terms: embeddings are left out; a loaded model's window is the
 * context it was loaded with (what a request can actually use), otherwise its maximum.
 */
export function describeLmStudioModel(entry: LmStudioListedModel): Model | undefined {
  if (entry.type === 'embeddings') return undefined;
  const loaded = entry.state === 'loaded' && entry.loaded_context_length ? entry.loaded_context_length : undefined;
  const context = loaded ?? entry.max_context_length ?? LMSTUDIO_DEFAULTS.context_window;
  const tools = !Array.isArray(entry.capabilities) || entry.capabilities.includes('tool_use');
  const capabilities: ModelCapability[] = [
    ...(tools ? (['tools'] as const) : []),
    'streaming',
    ...(entry.type === 'vlm' ? (['images'] as const) : []),
  ];
  return discoveredModel('lmstudio', entry.id, LMSTUDIO_DEFAULTS, { context_window: context, capabilities });
}

/** Discovery from LM Studio's own REST model list rather than `/v1/models`, which says nothing of context or state. */
export async function listLmStudioModels({ settings, signal }: ListModelsContext): Promise<Model[]> {
  const list = await vendorJson<{ data?: LmStudioListedModel[] }>(`${serverRoot(settings.api_url)}/api/v0/models`, {
    token: settings.credential.token ?? 'lm-studio',
    signal,
  });
  return (list.data ?? []).flatMap((entry) => describeLmStudioModel(entry) ?? []);
}
