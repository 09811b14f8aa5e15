export { providerLlamaCppWorker } from './register.js';
export { configSchema, DEFAULT_BASE_URL, type Config } from './config.js';
export { createLlamaCppAdapter } from './adapter.js';
export { isLoadingError, waitUntilReady } from './readiness.js';
