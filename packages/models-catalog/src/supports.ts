import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { CatalogStore } from './catalog-store.js';

export const supports = (store: CatalogStore) =>
  (async ({ provider, model_id, capability }) => {
    const found = (await store.ofProvider(provider)).find((m) => m.id === model_id);
    return { supported: found?.capabilities.includes(capability) ?? false, known: found !== undefined };
  }) satisfies Handler<typeof contracts.models.supports>;
