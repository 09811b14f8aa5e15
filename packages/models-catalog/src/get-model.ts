import { defineFunction, HarnessError } from '@iii-harness/runtime';
import { model } from '@iii-harness/types';
import { z } from 'zod';
import type { CatalogStore } from './catalog-store.js';

export const modelRef = z.object({ provider: z.string().min(1), model_id: z.string().min(1) }).strict();

export const getModel = (store: CatalogStore) =>
  defineFunction({
    id: 'models::get',
    description: 'One model of a provider; not_found when the provider has not registered it',
    input: modelRef,
    output: z.object({ model }),
    async handler({ provider, model_id }) {
      const found = (await store.ofProvider(provider)).find((m) => m.id === model_id);
      if (!found) throw new HarnessError('not_found', `model ${provider}/${model_id} is not in the catalog`);
      return { model: found };
    },
  });
