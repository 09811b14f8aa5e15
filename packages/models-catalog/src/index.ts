export { type Config, configSchema } from './config.js';
export { diffModels } from './reconcile.js';
export { modelsCatalogWorker, register } from './register.js';
