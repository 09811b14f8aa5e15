import { createProviderWorker } from '@iii-harness/provider-kit';
import type { WorkerSpec } from '@iii-harness/runtime';
import { createOpenAIAdapter } from './adapter.js';
import { type Config, configSchema, DEFAULT_BASE_URL, envOverrides } from './config.js';

/**
 * The whole bus surface of provider-openai: `provider::openai::stream|complete|abort|refresh_models`
 * (`contracts.provider.*('openai')`, served by provider-kit), declared to
 * `harness::provider::register` at start.
 */
export const providerOpenAIWorker: WorkerSpec<Config> = createProviderWorker<Config>({
  id: 'openai',
  description:
    'OpenAI Responses (reasoning models: summaries, encrypted reasoning kept) and Chat Completions as normalized events over the bus',
  config: configSchema,
  env: envOverrides,
  declaration: (config) => ({
    id: 'openai',
    display_name: 'OpenAI',
    credential_env_var: 'OPENAI_API_KEY',
    default_url: config.base_url ?? DEFAULT_BASE_URL,
    default_max_tokens: config.default_max_tokens,
    supports_model_listing: true,
    kind: 'cloud',
  }),
  createAdapter: createOpenAIAdapter,
});
