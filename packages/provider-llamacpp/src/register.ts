import { createProviderWorker } from '@iii-harness/provider-kit';
import type { WorkerSpec } from '@iii-harness/runtime';
import { createLlamaCppAdapter } from './adapter.js';
import { type Config, configSchema, DEFAULT_BASE_URL, envOverrides } from './config.js';

/**
 * The whole bus surface of provider-llamacpp: `provider::llamacpp::stream|complete|abort|refresh_models`
 * (from provider-kit) over llama-server's OpenAI-compatible API, declared to `harness::provider::register`.
 */
export const providerLlamaCppWorker: WorkerSpec<Config> = createProviderWorker<Config>({
  id: 'llamacpp',
  description:
    'llama.cpp llama-server (OpenAI-compatible chat completions, /props context, /health readiness) as normalized events over the bus',
  config: configSchema,
  env: envOverrides,
  declaration: (config) => ({
    id: 'llamacpp',
    display_name: 'llama.cpp',
    credential_env_var: 'LLAMACPP_API_KEY',
    default_url: config.base_url ?? DEFAULT_BASE_URL,
    default_max_tokens: config.default_max_tokens,
    supports_model_listing: true,
    kind: 'local',
  }),
  createAdapter: createLlamaCppAdapter,
});
