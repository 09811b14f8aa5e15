import { createOpenAICompatibleAdapter, createProviderWorker } from '@iii-harness/provider-kit';
import type { WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { type Config, configSchema, DEFAULT_BASE_URL, envOverrides } from './config.js';
import { LMSTUDIO_DEFAULTS, listLmStudioModels } from './discovery.js';
import { loadModel, unloadModel } from './load-model.js';

/**
 * The whole bus surface of provider-lmstudio: `provider::lmstudio::stream|complete|abort|refresh_models`
 * (from provider-kit) plus `provider::lmstudio::load_model|unload_model`.
 */
export const providerLmStudioWorker: WorkerSpec<Config> = createProviderWorker<Config>({
  id: 'lmstudio',
  description:
    'LM Studio local models (OpenAI-compatible chat completions, REST model list, load/unload) as normalized events over the bus',
  config: configSchema,
  env: envOverrides,
  declaration: (config) => ({
    id: 'lmstudio',
    display_name: 'LM Studio',
    credential_env_var: 'LMSTUDIO_API_KEY',
    default_url: config.base_url ?? DEFAULT_BASE_URL,
    default_max_tokens: config.default_max_tokens,
    supports_model_listing: true,
    kind: 'local',
  }),
  createAdapter: () =>
    createOpenAICompatibleAdapter({
      provider: 'lmstudio',
      // LM Studio accepts any bearer when auth is off; with auth on, LMSTUDIO_API_KEY is sent instead.
      placeholderApiKey: 'lm-studio',
      compat: { maxTokensField: 'max_tokens', supportsUsageInStreaming: true, toolCallIdFormat: 'passthrough' },
      modelDefaults: LMSTUDIO_DEFAULTS,
      listModels: listLmStudioModels,
    }),
  extraFunctions: (worker, tools) => {
    worker.function(contracts.lmstudio.loadModel, loadModel(worker, tools));
    worker.function(contracts.lmstudio.unloadModel, unloadModel(worker, tools));
  },
});
