export { providerLmStudioWorker } from './register.js';
export { configSchema, DEFAULT_BASE_URL, type Config } from './config.js';
export { describeLmStudioModel, listLmStudioModels, type LmStudioListedModel } from './discovery.js';
