export { modelsCatalogWorker, register } from './register.js';
export { configSchema, type Config } from './config.js';
export { diffModels, type CatalogChanges } from './reconcile.js';
