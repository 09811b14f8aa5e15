export { createOpenAIAdapter } from './adapter.js';
export { type Config, configSchema, DEFAULT_BASE_URL } from './config.js';
export {
  describeOpenAIModel,
  isChatModel,
  isReasoningModel,
  isResponsesOnlyModel,
  openAICompat,
  wireApiFor,
} from './models.js';
export { providerOpenAIWorker } from './register.js';
