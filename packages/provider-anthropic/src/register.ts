import { createProviderWorker, type ProviderDeclaration } from '@iii-harness/provider-kit';
import type { WorkerSpec } from '@iii-harness/runtime';
import { createAnthropicAdapter } from './adapter.js';
import { ANTHROPIC_KEY_ENV, type Config, configSchema, DEFAULT_ANTHROPIC_URL, envOverrides } from './config.js';

export const PROVIDER_ID = 'anthropic';

export function declaration(config: Config): ProviderDeclaration {
  return {
    id: PROVIDER_ID,
    display_name: 'Anthropic',
    credential_env_var: ANTHROPIC_KEY_ENV,
    default_url: config.base_url ?? DEFAULT_ANTHROPIC_URL,
    default_max_tokens: config.max_tokens,
    supports_model_listing: true,
    kind: 'cloud',
  };
}

/**
 * The whole bus surface of provider-anthropic, from provider-kit: `provider::anthropic::stream`,
 * `::complete`, `::abort`, `::refresh_models`; declaration to `harness::provider::register` and
 * model discovery into `models::reconcile` at start.
 */
export const providerAnthropicWorker: WorkerSpec<Config> = createProviderWorker({
  id: PROVIDER_ID,
  description:
    'The Anthropic provider: Messages API streaming (text, tools, thinking, prompt caching) as normalized events',
  config: configSchema,
  env: envOverrides,
  declaration,
  createAdapter: (config) => createAnthropicAdapter(config, PROVIDER_ID),
});
