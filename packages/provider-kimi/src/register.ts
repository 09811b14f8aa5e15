import { createOpenAICompatibleAdapter, createProviderWorker } from '@iii-harness/provider-kit';
import type { WorkerSpec } from '@iii-harness/runtime';
import { type Config, configSchema, DEFAULT_BASE_URL, envOverrides } from './config.js';
import { DEFAULT_FAMILY, describeKimiModel, kimiCompat } from './models.js';

/**
 * The whole bus surface of provider-kimi: `provider::kimi::stream|complete|abort|refresh_models`
 * (from provider-kit) over Moonshot's OpenAI-compatible API, declared to `harness::provider::register`.
 */
export const providerKimiWorker: WorkerSpec<Config> = createProviderWorker<Config>({
  id: 'kimi',
  description:
    'Kimi (Moonshot) chat completions with native tool-call ids and reasoning_content as normalized events over the bus',
  config: configSchema,
  env: envOverrides,
  declaration: (config) => ({
    id: 'kimi',
    display_name: 'Kimi (Moonshot)',
    credential_env_var: 'MOONSHOT_API_KEY',
    default_url: config.base_url ?? DEFAULT_BASE_URL,
    default_max_tokens: config.default_max_tokens,
    supports_model_listing: true,
    kind: 'cloud',
  }),
  createAdapter: () =>
    createOpenAICompatibleAdapter({
      provider: 'kimi',
      compat: kimiCompat,
      modelDefaults: {
        context_window: DEFAULT_FAMILY.context,
        max_output_tokens: DEFAULT_FAMILY.output,
        capabilities: ['tools', 'streaming'],
      },
      describeModel: describeKimiModel,
    }),
});
