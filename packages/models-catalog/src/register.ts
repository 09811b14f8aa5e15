import type { Worker, WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
import { CatalogStore } from './catalog-store.js';
import { type Config, configSchema, envOverrides } from './config.js';
import { getModel } from './get-model.js';
import { listModels } from './list-models.js';
import { reconcile } from './reconcile.js';
import { supports } from './supports.js';

const { models } = contracts;

/** The whole bus surface of models-catalog. */
export function register(worker: Worker<Config>): void {
  const store = new CatalogStore(worker.bus, worker.config);
  worker.function(models.list, listModels(store));
  worker.function(models.get, getModel(store));
  worker.function(models.supports, supports(store));
  worker.function(models.reconcile, reconcile(store, worker.config));
}

export const modelsCatalogWorker: WorkerSpec<Config> = {
  name: 'models-catalog',
  description: 'The model catalog: what each provider registered (context window, max output, capabilities, pricing)',
  config: configSchema,
  env: envOverrides,
  register,
};
