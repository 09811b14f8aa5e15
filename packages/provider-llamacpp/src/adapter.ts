import { createOpenAICompatibleAdapter, type ProviderAdapter, withV1 } from '@iii-harness/provider-kit';
import type { Config } from './config.js';
import { LLAMACPP_DEFAULTS, listLlamaCppModels } from './discovery.js';
import { isLoadingError, waitUntilReady } from './readiness.js';

/**
 * The OpenAI-compatible adapter at `<base>/v1`, with llama-server's readiness: a 503 "Loading
 * model" before anything streamed waits on `/health` (bounded by `ready_timeout_ms`) and tries
 * again, instead of failing the request.
 */
export function createLlamaCppAdapter(config: Config): ProviderAdapter {
  const base = createOpenAICompatibleAdapter({
    provider: 'llamacpp',
    baseUrl: withV1,
    compat: { maxTokensField: 'max_tokens', supportsUsageInStreaming: true, toolCallIdFormat: 'passthrough' },
    modelDefaults: LLAMACPP_DEFAULTS,
  });
  return {
    async stream(request, ctx) {
      const deadline = Date.now() + config.ready_timeout_ms;
      for (;;) {
        try {
          return await base.stream(request, ctx);
        } catch (error) {
          if (!isLoadingError(error) || ctx.sink.count > 0 || Date.now() >= deadline) throw error;
          await waitUntilReady(ctx.settings, {
            signal: ctx.signal,
            timeoutMs: deadline - Date.now(),
            pollMs: config.health_poll_ms,
            logger: ctx.logger,
          });
        }
      }
    },
    listModels: ({ settings, signal, logger }) => listLlamaCppModels(settings, config, { signal, logger }),
  };
}
