export { type Config, configSchema, DEFAULT_BASE_URL } from './config.js';
export { describeKimiModel, isThinkingModel, kimiCompat } from './models.js';
export { providerKimiWorker } from './register.js';
