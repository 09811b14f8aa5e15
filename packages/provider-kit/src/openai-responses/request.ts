import type { ProviderRequest } from '@iii-harness/types';
import { type OpenAICompat, reasoningEffortOf } from '../openai-compatible/compat.js';
import { type ResponsesInputItem, toResponsesInput } from './convert-input.js';

export type ReasoningSummary = 'auto' | 'concise' | 'detailed' | 'none';

/** The body of one streamed `POST /responses`. */
export interface ResponsesBody {
  model: string;
  input: ResponsesInputItem[];
  instructions?: string;
  stream: true;
  /** Nothing is kept at OpenAI: every request carries the whole conversation, reasoning included. */
  store: false;
  include?: ['reasoning.encrypted_content'];
  tools?: Array<{
    type: 'function';
    name: string;
    description: string;
    parameters: Record<string, unknown>;
    strict: false;
  }>;
  max_output_tokens: number;
  temperature?: number;
  reasoning?: { effort?: string; summary?: Exclude<ReasoningSummary, 'none'> };
}

/**
 * Our request → a Responses body. Stateless (`store: false`): a reasoning model is asked for its
 * reasoning encrypted (`include: ['reasoning.encrypted_content']`) and for a summary, which streams
 * as thinking; the encrypted item goes back on the next request. Reasoning models get no
 * temperature, as with chat completions.
 */
export function buildResponsesBody(
  request: ProviderRequest,
  compat: OpenAICompat,
  defaultMaxTokens: number,
  options: { provider: string; reasoningSummary: ReasoningSummary },
): ResponsesBody {
  const body: ResponsesBody = {
    model: request.model,
    input: toResponsesInput(request.messages, compat, { provider: options.provider, model: request.model }),
    stream: true,
    store: false,
    max_output_tokens: request.max_tokens ?? defaultMaxTokens,
  };
  if (request.system) body.instructions = request.system;
  if (request.tools?.length)
    body.tools = request.tools.map((tool) => ({
      type: 'function',
      name: tool.name,
      description: tool.description,
      parameters: tool.parameters,
      strict: false,
    }));
  if (request.temperature !== undefined && compat.supportsTemperature) body.temperature = request.temperature;
  // A reasoning model reasons whether asked or not: its reasoning is always kept (encrypted) for the next turn.
  if (compat.supportsReasoningEffort) {
    body.include = ['reasoning.encrypted_content'];
    const effort = reasoningEffortOf(compat, request.thinking);
    const summary = options.reasoningSummary === 'none' ? undefined : options.reasoningSummary;
    if (effort || summary) body.reasoning = { ...(effort ? { effort } : {}), ...(summary ? { summary } : {}) };
  }
  return body;
}
