/**
 * How one OpenAI-compatible server differs from another, as data. A provider gives base flags and,
 * where models of one vendor differ (OpenAI's reasoning models, Kimi's thinking models), a
 * function of the model id that overrides some of them.
 */
export interface OpenAICompat {
  /** Which field carries the output limit: `max_tokens` (most servers) or `max_completion_tokens` (OpenAI, Moonshot). */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  /** Send `stream_options: {include_usage: true}` so the last chunk carries usage. */
  supportsUsageInStreaming: boolean;
  /** Echo thinking blocks as `reasoning_content` on assistant messages (Kimi/DeepSeek thinking models need it). */
  sendReasoningContent: boolean;
  /** Send `reasoning_effort` from `thinking.effort` (OpenAI o-series and gpt-5). */
  supportsReasoningEffort: boolean;
  /** Vendor effort names, when they differ from ours (e.g. `minimal` → `low` where `minimal` is unknown). */
  reasoningEffortMap: Partial<Record<Effort, string>>;
  /** Effort sent when the request asks for thinking without naming one. */
  defaultReasoningEffort?: Effort;
  /** Send `temperature` (reasoning models reject it). */
  supportsTemperature: boolean;
  /**
   * `passthrough` sends tool-call ids exactly as stored (Kimi's `functions.<name>:<idx>` must be
   * echoed unchanged); `openai` rewrites ids OpenAI would reject (over 40 chars or odd characters)
   * into a stable `call_<hash>` form, the same way in the assistant call and its tool result.
   */
  toolCallIdFormat: 'passthrough' | 'openai';
  /** User content parts of type `image_url` are understood; otherwise images become a text note. */
  supportsImages: boolean;
}

export type Effort = 'minimal' | 'low' | 'medium' | 'high';

export const defaultCompat: OpenAICompat = {
  maxTokensField: 'max_tokens',
  supportsUsageInStreaming: true,
  sendReasoningContent: false,
  supportsReasoningEffort: false,
  reasoningEffortMap: {},
  supportsTemperature: true,
  toolCallIdFormat: 'passthrough',
  supportsImages: true,
};

/** Base flags, optionally refined per model id. */
export type CompatSpec = Partial<OpenAICompat> | ((model: string) => Partial<OpenAICompat>);

export function compatFor(spec: CompatSpec | undefined, model: string): OpenAICompat {
  const flags = typeof spec === 'function' ? spec(model) : (spec ?? {});
  return {
    ...defaultCompat,
    ...flags,
    reasoningEffortMap: { ...defaultCompat.reasoningEffortMap, ...flags.reasoningEffortMap },
  };
}

/** Our thinking settings → the vendor's `reasoning_effort`, or nothing. */
export function reasoningEffortOf(
  compat: OpenAICompat,
  thinking: { enabled: boolean; effort?: Effort; budget_tokens?: number } | undefined,
): string | undefined {
  if (!compat.supportsReasoningEffort || thinking?.enabled === false) return undefined;
  const effort =
    thinking?.effort ??
    (thinking?.budget_tokens !== undefined ? effortForBudget(thinking.budget_tokens) : compat.defaultReasoningEffort);
  return effort ? (compat.reasoningEffortMap[effort] ?? effort) : undefined;
}

/** A token budget read as an effort level (the vendors that take effort have no budget knob). */
function effortForBudget(budget: number): Effort {
  if (budget <= 2_048) return 'low';
  if (budget <= 16_384) return 'medium';
  return 'high';
}
