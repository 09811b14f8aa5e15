import type { OpenAICompat } from '@iii-harness/provider-kit';
import type { Model, ModelCapability } from '@iii-harness/types';

/** Context and output limits per model family (longest id prefix wins), for list entries that carry none. */
const FAMILIES: Record<string, { context: number; output: number }> = {
  'kimi-k2': { context: 262_144, output: 32_768 },
  'kimi-k2-0711': { context: 131_072, output: 16_384 },
  'kimi-k3': { context: 262_144, output: 32_768 },
  'kimi-latest': { context: 131_072, output: 8_192 },
  'moonshot-v1-8k': { context: 8_192, output: 4_096 },
  'moonshot-v1-32k': { context: 32_768, output: 8_192 },
  'moonshot-v1-128k': { context: 131_072, output: 8_192 },
  'moonshot-v1-auto': { context: 131_072, output: 8_192 },
};
export const DEFAULT_FAMILY = { context: 131_072, output: 8_192 };

/**
 * Models that think before answering and stream `reasoning_content`: the `-thinking` ids, and
 * K2.5 and later, which think by default. They need their reasoning echoed back on assistant
 * tool-call turns, and their sampling parameters are fixed by the platform.
 */
export function isThinkingModel(id: string): boolean {
  return /thinking/.test(id) || /^kimi-k2\.[5-9]/.test(id) || /^kimi-k[3-9]/.test(id);
}

function familyOf(id: string) {
  const prefix = Object.keys(FAMILIES)
    .filter((p) => id.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? FAMILIES[prefix]! : DEFAULT_FAMILY;
}

/** A listed model, using `context_length` / `supports_image_in` / `supports_reasoning` when Moonshot's list has them. */
export function describeKimiModel(id: string, raw: Record<string, unknown> = {}): Partial<Model> | undefined {
  if (!/^(kimi-|moonshot-)/.test(id)) return undefined;
  const family = familyOf(id);
  const context =
    typeof raw.context_length === 'number' && raw.context_length > 0 ? raw.context_length : family.context;
  const capabilities: ModelCapability[] = ['tools', 'streaming', 'prompt_caching'];
  if (raw.supports_image_in === true || /vision|^kimi-k2\.[5-9]|^kimi-latest/.test(id)) capabilities.push('images');
  if (raw.supports_reasoning === true || isThinkingModel(id)) capabilities.push('thinking');
  return { context_window: context, max_output_tokens: Math.min(family.output, context), capabilities };
}

/**
 * Moonshot's flags: `max_completion_tokens`; tool-call ids (`functions.<name>:<idx>`) sent back
 * exactly as received; usage comes on the last chunk's choice, so `stream_options` is not sent.
 */
export function kimiCompat(model: string): Partial<OpenAICompat> {
  const thinking = isThinkingModel(model);
  return {
    maxTokensField: 'max_completion_tokens',
    supportsUsageInStreaming: false,
    toolCallIdFormat: 'passthrough',
    sendReasoningContent: thinking,
    supportsTemperature: !thinking,
    supportsImages: /vision|^kimi-k2\.[5-9]|^kimi-latest/.test(model),
  };
}
