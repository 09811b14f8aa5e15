import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { CatalogStore } from './catalog-store.js';

export const listModels = (store: CatalogStore) =>
  (async ({ provider, capability }) => {
    const models = provider ? await store.ofProvider(provider) : await store.all();
    return { models: capability ? models.filter((m) => m.capabilities.includes(capability)) : models };
  }) satisfies Handler<typeof contracts.models.list>;
