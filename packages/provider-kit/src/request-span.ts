import type { SpanHandle, SpanSpec } from '@iii-harness/runtime';
import { type AssistantMessage, costOf, type ProviderRequest } from '@iii-harness/types';
import type { ProviderFailure } from './failures.js';
import { priceFor } from './pricing.js';

/**
 * The span of one model request (`chat <model>`, OpenTelemetry's GenAI names): which provider and
 * model, and — once it is over — how it ended, the tokens it used and what it cost.
 */
export function requestSpan(providerId: string, request: ProviderRequest): SpanSpec {
  return {
    name: `chat ${request.model}`,
    kind: 'client',
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': providerId,
      'gen_ai.request.model': request.model,
      'iii.provider.request_id': request.request_id,
      ...(request.max_tokens ? { 'gen_ai.request.max_tokens': request.max_tokens } : {}),
    },
  };
}

/** How the request ended, on its span: usage and cost (the model's price when the provider gave none). */
export function describeOutcome(
  span: SpanHandle,
  providerId: string,
  outcome: { message: AssistantMessage; failure?: ProviderFailure },
): void {
  const { message, failure } = outcome;
  const usage = message.usage;
  const pricing = usage.cost_usd === undefined ? priceFor(providerId, message.model) : undefined;
  const cost = usage.cost_usd ?? (pricing ? costOf(usage, pricing) : undefined);
  span.annotate({
    'gen_ai.response.model': message.model,
    'gen_ai.response.finish_reasons': [message.stop_reason],
    'gen_ai.usage.input_tokens': usage.input_tokens,
    'gen_ai.usage.output_tokens': usage.output_tokens,
    'iii.usage.cache_read_tokens': usage.cache_read_tokens ?? 0,
    'iii.usage.cache_write_tokens': usage.cache_write_tokens ?? 0,
    ...(usage.reasoning_tokens !== undefined ? { 'iii.usage.reasoning_tokens': usage.reasoning_tokens } : {}),
    ...(cost !== undefined ? { 'iii.cost.usd': cost } : {}),
    'iii.outcome': failure ? failure.kind : message.stop_reason === 'aborted' ? 'aborted' : 'ok',
  });
  if (failure) {
    span.annotate({ 'iii.provider.retryable': failure.retryable });
    span.fail(failure.kind);
  }
}
