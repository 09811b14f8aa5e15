import {
  createOpenAICompatibleAdapter,
  createOpenAIResponsesAdapter,
  type ProviderAdapter,
} from '@iii-harness/provider-kit';
import type { Config } from './config.js';
import { DEFAULT_FAMILY, describeOpenAIModel, openAICompat, wireApiFor } from './models.js';

/**
 * OpenAI over two APIs with one SDK client per key: the Responses API for the models that need it
 * (reasoning models: summaries as thinking, encrypted reasoning sent back, stateless), Chat
 * Completions for the rest (and for every model with `api: chat_completions`). Discovery lists
 * `GET /v1/models` once for both.
 */
export function createOpenAIAdapter(config: Config): ProviderAdapter {
  const chat = createOpenAICompatibleAdapter({
    provider: 'openai',
    compat: openAICompat,
    modelDefaults: {
      context_window: DEFAULT_FAMILY.context,
      max_output_tokens: DEFAULT_FAMILY.output,
      capabilities: ['tools', 'streaming'],
    },
    describeModel: (id) => describeOpenAIModel(id, config.api),
  });
  const responses = createOpenAIResponsesAdapter({
    provider: 'openai',
    compat: openAICompat,
    clientFor: chat.clientFor,
    reasoningSummary: config.reasoning_summary,
  });
  return {
    stream: (request, ctx) =>
      (wireApiFor(request.model, config) === 'responses' ? responses : chat).stream(request, ctx),
    listModels: chat.listModels,
  };
}
