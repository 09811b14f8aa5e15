import type { ProviderRequest } from '@iii-harness/types';
import { type OpenAICompat, reasoningEffortOf } from './compat.js';
import { toWireMessages, type WireMessage } from './convert-messages.js';

/** The body of one streamed `POST /chat/completions`. */
export interface ChatCompletionBody {
  model: string;
  messages: WireMessage[];
  stream: true;
  stream_options?: { include_usage: true };
  tools?: Array<{
    type: 'function';
    function: { name: string; description: string; parameters: Record<string, unknown> };
  }>;
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  reasoning_effort?: string;
}

/**
 * Our request → the vendor's body. `defaultMaxTokens` (from the resolved settings) applies when
 * the request names no limit; temperature is dropped for models that reject it.
 */
export function buildChatCompletionBody(
  request: ProviderRequest,
  compat: OpenAICompat,
  defaultMaxTokens: number,
): ChatCompletionBody {
  const body: ChatCompletionBody = {
    model: request.model,
    messages: toWireMessages(request.messages, request.system, compat),
    stream: true,
  };
  if (compat.supportsUsageInStreaming) body.stream_options = { include_usage: true };
  if (request.tools?.length) {
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      function: { name: tool.name, description: tool.description, parameters: tool.parameters },
    }));
  }
  body[compat.maxTokensField] = request.max_tokens ?? defaultMaxTokens;
  if (request.temperature !== undefined && compat.supportsTemperature) body.temperature = request.temperature;
  const effort = reasoningEffortOf(compat, request.thinking);
  if (effort) body.reasoning_effort = effort;
  return body;
}
