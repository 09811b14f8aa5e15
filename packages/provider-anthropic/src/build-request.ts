import type Anthropic from '@anthropic-ai/sdk';
import type { ProviderRequest, ResolvedProvider, ThinkingConfig } from '@iii-harness/provider-kit';
import type { Config } from './config.js';
import { type AnthropicMessage, convertMessages, wireToolName } from './convert-messages.js';

const EPHEMERAL = { type: 'ephemeral' } as const;
/** Thinking budget per effort level, when a request names an effort instead of a budget. */
const EFFORT_BUDGET = { minimal: 1024, low: 2048, medium: 8192, high: 16384 } as const;
const MIN_BUDGET = 1024;

export interface BuiltRequest {
  body: Anthropic.MessageCreateParamsStreaming;
  /** Wire tool name → the name the caller declared, to report calls under the caller's name. */
  toolNames: Map<string, string>;
}

/** The Messages API request for one of our requests, with prompt-caching breakpoints. */
export function buildRequest(
  request: ProviderRequest,
  settings: ResolvedProvider,
  config: Config,
  provider: string,
): BuiltRequest {
  const toolNames = new Map((request.tools ?? []).map((tool) => [wireToolName(tool.name), tool.name]));
  let maxTokens = request.max_tokens ?? settings.max_tokens;
  const budget = thinkingBudget(request.thinking, config);
  // Anthropic requires max_tokens > budget_tokens: the budget is part of the output.
  if (budget !== undefined && maxTokens <= budget) maxTokens += budget;

  const messages = convertMessages(request.messages, provider);
  if (config.cache_last_message) markLastBlock(messages);
  const body: Anthropic.MessageCreateParamsStreaming = {
    model: request.model,
    max_tokens: maxTokens,
    messages,
    stream: true,
  };
  if (request.system)
    body.system = [
      { type: 'text', text: request.system, ...(config.cache_system ? { cache_control: EPHEMERAL } : {}) },
    ];
  const tools: Anthropic.ToolUnion[] = [
    ...(request.tools ?? []).map((tool) => ({
      name: wireToolName(tool.name),
      description: tool.description,
      input_schema: { ...tool.parameters, type: 'object' } as Anthropic.Tool.InputSchema,
    })),
    ...(config.server_tools as unknown as Anthropic.ToolUnion[]),
  ];
  if (tools.length) {
    if (config.cache_tools) tools[tools.length - 1] = { ...tools.at(-1)!, cache_control: EPHEMERAL };
    body.tools = tools;
  }
  if (budget !== undefined) body.thinking = { type: 'enabled', budget_tokens: budget };
  // `temperature` is not sent: the Messages API has deprecated it (the SDK no longer types it).
  return { body, toolNames };
}

function thinkingBudget(thinking: ThinkingConfig | undefined, config: Config): number | undefined {
  if (!thinking || thinking.enabled === false) return undefined;
  const budget =
    thinking.budget_tokens ?? (thinking.effort ? EFFORT_BUDGET[thinking.effort] : config.thinking_budget_tokens);
  return Math.max(MIN_BUDGET, budget);
}

/** Cache everything up to the newest message (thinking blocks cannot carry a breakpoint). */
function markLastBlock(messages: AnthropicMessage[]): void {
  const block = messages.at(-1)?.content.at(-1);
  if (block && block.type !== 'thinking' && block.type !== 'redacted_thinking')
    (block as { cache_control?: unknown }).cache_control = EPHEMERAL;
}
