import { type Handler, HarnessError } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { CatalogStore } from './catalog-store.js';

export const getModel = (store: CatalogStore) =>
  (async ({ provider, model_id }) => {
    const found = (await store.ofProvider(provider)).find((m) => m.id === model_id);
    if (!found) throw new HarnessError('not_found', `model ${provider}/${model_id} is not in the catalog`);
    return { model: found };
  }) satisfies Handler<typeof contracts.models.get>;
