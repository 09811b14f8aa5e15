import { defineFunction } from '@iii-harness/runtime';
import { model, modelCapability } from '@iii-harness/types';
import { z } from 'zod';
import type { CatalogStore } from './catalog-store.js';

export const listModels = (store: CatalogStore) =>
  defineFunction({
    id: 'models::list',
    description: "List catalog models, optionally only one provider's or only those with a capability",
    input: z.object({ provider: z.string().min(1).optional(), capability: modelCapability.optional() }).strict(),
    output: z.object({ models: z.array(model) }),
    async handler({ provider, capability }) {
      const models = provider ? await store.ofProvider(provider) : await store.all();
      return { models: capability ? models.filter((m) => m.capabilities.includes(capability)) : models };
    },
  });
