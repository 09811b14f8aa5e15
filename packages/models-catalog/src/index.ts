export { type Config, configSchema } from './config.js';
export { type CatalogChanges, diffModels } from './reconcile.js';
export { modelsCatalogWorker, register } from './register.js';
