import type { OpenAICompat } from '@iii-harness/provider-kit';
import type { Model, ModelCapability } from '@iii-harness/types';

/**
 * What OpenAI's `/v1/models` does not say: context window and output limit per model family,
 * matched by the longest id prefix. Unknown chat models get the safe default.
 */
const FAMILIES: Record<string, { context: number; output: number; images: boolean }> = {
  'gpt-5': { context: 400_000, output: 128_000, images: true },
  'gpt-4.1': { context: 1_047_576, output: 32_768, images: true },
  'gpt-4o': { context: 128_000, output: 16_384, images: true },
  'chatgpt-4o': { context: 128_000, output: 16_384, images: true },
  'gpt-4-turbo': { context: 128_000, output: 4_096, images: true },
  'gpt-4': { context: 8_192, output: 8_192, images: false },
  'gpt-3.5-turbo': { context: 16_385, output: 4_096, images: false },
  o1: { context: 200_000, output: 100_000, images: true },
  'o1-mini': { context: 128_000, output: 65_536, images: false },
  o3: { context: 200_000, output: 100_000, images: true },
  'o3-mini': { context: 200_000, output: 100_000, images: false },
  'o4-mini': { context: 200_000, output: 100_000, images: true },
};
export const DEFAULT_FAMILY = { context: 128_000, output: 16_384, images: false };

/** Ids in the list that are not chat-completions models (audio, images, embeddings, Responses-only…). */
const NOT_CHAT =
  /realtime|audio|transcribe|tts|image|search|instruct|embedding|moderation|-pro\b|codex|deep-research|computer-use|dall-e|whisper|babbage|davinci|sora/;

export function isChatModel(id: string): boolean {
  return /^(gpt-|o\d|chatgpt-)/.test(id) && !NOT_CHAT.test(id);
}

/** Text models only the Responses API serves (`o1-pro`, `gpt-5-pro`, `gpt-5-codex`, `codex-mini-latest`). */
export function isResponsesOnlyModel(id: string): boolean {
  return (
    /^(gpt-|o\d|codex-)/.test(id) && /-pro\b|codex/.test(id) && !/realtime|audio|image|search|computer-use/.test(id)
  );
}

/** Which API serves `model` under this config (see the `api` key). */
export function wireApiFor(
  model: string,
  config: { api: 'auto' | 'responses' | 'chat_completions'; responses_models: string[] },
): 'responses' | 'chat_completions' {
  if (config.api !== 'auto') return config.api;
  if (isReasoningModel(model) || isResponsesOnlyModel(model)) return 'responses';
  return config.responses_models.some((prefix) => model.startsWith(prefix)) ? 'responses' : 'chat_completions';
}

/** o-series, gpt-5 and codex models reason: they take an effort and `max_completion_tokens`, and reject `temperature`. */
export function isReasoningModel(id: string): boolean {
  return /^o\d/.test(id) || (/^gpt-5/.test(id) && !/chat/.test(id)) || /^codex-/.test(id);
}

function familyOf(id: string) {
  const prefix = Object.keys(FAMILIES)
    .filter((p) => id.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? FAMILIES[prefix]! : DEFAULT_FAMILY;
}

/**
 * What the catalog should know of a listed id, or undefined to leave it out. Models only the
 * Responses API serves are listed unless every model goes through Chat Completions.
 */
export function describeOpenAIModel(
  id: string,
  api: 'auto' | 'responses' | 'chat_completions' = 'auto',
): Partial<Model> | undefined {
  if (!isChatModel(id) && !(api !== 'chat_completions' && isResponsesOnlyModel(id))) return undefined;
  const family = familyOf(id);
  const capabilities: ModelCapability[] = ['tools', 'streaming', 'prompt_caching'];
  if (family.images) capabilities.push('images');
  if (isReasoningModel(id)) capabilities.push('thinking');
  return { context_window: family.context, max_output_tokens: family.output, capabilities };
}

/** Request flags per model: every model takes `max_completion_tokens`; reasoning models take effort, not temperature. */
export function openAICompat(model: string): Partial<OpenAICompat> {
  const base: Partial<OpenAICompat> = {
    maxTokensField: 'max_completion_tokens',
    toolCallIdFormat: 'openai',
    supportsUsageInStreaming: true,
  };
  if (!isReasoningModel(model)) return base;
  return {
    ...base,
    supportsTemperature: false,
    supportsReasoningEffort: true,
    defaultReasoningEffort: 'medium',
    // o-series know low/medium/high only; gpt-5 also takes minimal.
    reasoningEffortMap: /^o\d/.test(model) ? { minimal: 'low' } : {},
  };
}
