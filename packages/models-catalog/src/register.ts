import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { CatalogStore } from './catalog-store.js';
import { type Config, configSchema, envOverrides } from './config.js';
import { getModel } from './get-model.js';
import { listModels } from './list-models.js';
import { reconcile } from './reconcile.js';
import { supports } from './supports.js';

/** The whole bus surface of models-catalog. */
export function register(worker: Worker<Config>): void {
  const store = new CatalogStore(worker.bus, worker.config);
  worker.function(listModels(store));
  worker.function(getModel(store));
  worker.function(supports(store));
  worker.function(reconcile(store, worker.config));
}

export const modelsCatalogWorker: WorkerSpec<Config> = {
  name: 'models-catalog',
  description: 'The model catalog: what each provider registered (context window, max output, capabilities, pricing)',
  config: configSchema,
  env: envOverrides,
  register,
};
