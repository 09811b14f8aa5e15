import type { ProviderRequest, ResolvedProvider } from '@iii-harness/types';
import type OpenAI from 'openai';
import { ProviderFailure } from '../failures.js';
import { midStreamFailure } from '../openai-compatible/adapter.js';
import { type CompatSpec, compatFor } from '../openai-compatible/compat.js';
import { priceFor } from '../pricing.js';
import type { AdapterContext, StreamOutcome } from '../provider-worker.js';
import { buildResponsesBody, type ReasoningSummary } from './request.js';
import { type ResponsesEvent, ResponsesStreamMapper } from './stream-mapper.js';

export interface OpenAIResponsesOptions {
  /** Provider id: pricing lookups, and whose reasoning may be sent back. */
  provider: string;
  compat?: CompatSpec;
  /** The SDK client for these settings (shared with the chat-completions adapter). */
  clientFor(settings: ResolvedProvider): { client: OpenAI };
  /** The reasoning summary reasoning models are asked for (`none`: no summary, no thinking deltas). */
  reasoningSummary?: ReasoningSummary;
}

/**
 * Streams one request through OpenAI's Responses API (`POST /responses`, stateless with
 * `store: false`), with the official SDK's `responses.create({stream: true})`: the SDK does the
 * HTTP and the SSE parsing, the request's signal aborts it, events are mapped onto the sink.
 */
export function createOpenAIResponsesAdapter(options: OpenAIResponsesOptions): {
  stream(request: ProviderRequest, ctx: AdapterContext): Promise<StreamOutcome>;
} {
  return {
    async stream(request, { settings, sink, signal, started }) {
      const compat = compatFor(options.compat, request.model);
      const body = buildResponsesBody(request, compat, settings.max_tokens, {
        provider: options.provider,
        reasoningSummary: options.reasoningSummary ?? 'auto',
      });
      const mapper = new ResponsesStreamMapper(sink, priceFor(options.provider, request.model));
      const events = await options
        .clientFor(settings)
        .client.responses.create(body as unknown as OpenAI.Responses.ResponseCreateParamsStreaming, { signal });
      let first = true;
      try {
        for await (const event of events) {
          if (first) {
            started();
            first = false;
          }
          mapper.push(event as ResponsesEvent);
        }
      } catch (error) {
        // A cut after the terminal event loses nothing.
        if (!mapper.ended || signal.aborted) throw midStreamFailure(error);
      }
      // The SDK ends the iteration quietly when aborted.
      if (signal.aborted) throw new ProviderFailure('aborted', 'request aborted');
      return mapper.finish();
    },
  };
}
