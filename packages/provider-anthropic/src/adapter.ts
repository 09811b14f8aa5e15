import Anthropic from '@anthropic-ai/sdk';
import type { ProviderAdapter, ResolvedProvider } from '@iii-harness/provider-kit';
import { buildRequest } from './build-request.js';
import type { Config } from './config.js';
import { listModels } from './list-models.js';
import { anthropicFailure } from './map-error.js';
import { mapStream } from './map-stream.js';

/**
 * One SDK client per (base URL, key): building a client per request would redo its setup on
 * the hot path. The SDK never retries (`maxRetries: 0`): retries are the kit's, before the
 * first byte only. The key is passed explicitly so the SDK reads no credential of its own.
 */
function clientCache(): (settings: ResolvedProvider) => Anthropic {
  let cached: { key: string; client: Anthropic } | undefined;
  return (settings) => {
    const key = `${settings.api_url}\n${settings.credential.token ?? ''}`;
    if (cached?.key !== key) {
      cached = {
        key,
        client: new Anthropic({
          baseURL: settings.api_url,
          apiKey: settings.credential.token ?? null,
          maxRetries: 0,
          logLevel: 'off',
        }),
      };
    }
    return cached.client;
  };
}

export function createAnthropicAdapter(config: Config, provider = 'anthropic'): ProviderAdapter {
  const clientFor = clientCache();
  return {
    async stream(request, { settings, sink, signal, started }) {
      const { body, toolNames } = buildRequest(request, settings, config, provider);
      try {
        const events = await clientFor(settings).messages.create(body, { signal });
        return await mapStream(events, { sink, signal, started, toolNames });
      } catch (error) {
        throw anthropicFailure(error, signal);
      }
    },
    async listModels({ settings, signal }) {
      try {
        return await listModels(clientFor(settings), provider, signal);
      } catch (error) {
        throw anthropicFailure(error, signal);
      }
    },
  };
}
