export { providerKimiWorker } from './register.js';
export { configSchema, DEFAULT_BASE_URL, type Config } from './config.js';
export { describeKimiModel, isThinkingModel, kimiCompat } from './models.js';
