export { type Config, configSchema, DEFAULT_BASE_URL } from './config.js';
export { describeLmStudioModel, type LmStudioListedModel, listLmStudioModels } from './discovery.js';
export { providerLmStudioWorker } from './register.js';
