export { providerOpenAIWorker } from './register.js';
export { configSchema, DEFAULT_BASE_URL, type Config } from './config.js';
export { describeOpenAIModel, isChatModel, isReasoningModel, openAICompat } from './models.js';
