export { createLlamaCppAdapter } from './adapter.js';
export { type Config, configSchema, DEFAULT_BASE_URL } from './config.js';
export { isLoadingError, waitUntilReady } from './readiness.js';
export { providerLlamaCppWorker } from './register.js';
