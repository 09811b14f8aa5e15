import { defineFunction } from '@iii-harness/runtime';
import { modelCapability } from '@iii-harness/types';
import { z } from 'zod';
import type { CatalogStore } from './catalog-store.js';
import { modelRef } from './get-model.js';

export const supports = (store: CatalogStore) =>
  defineFunction({
    id: 'models::supports',
    description: 'Whether a model has a capability (false, with known: false, for unknown models)',
    input: modelRef.extend({ capability: modelCapability }),
    output: z.object({ supported: z.boolean(), known: z.boolean() }),
    async handler({ provider, model_id, capability }) {
      const found = (await store.ofProvider(provider)).find((m) => m.id === model_id);
      return { supported: found?.capabilities.includes(capability) ?? false, known: found !== undefined };
    },
  });
