export { type Config, configSchema, DEFAULT_BASE_URL } from './config.js';
export { describeOpenAIModel, isChatModel, isReasoningModel, openAICompat } from './models.js';
export { providerOpenAIWorker } from './register.js';
