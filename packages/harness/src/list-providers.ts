import { defineFunction } from '@iii-harness/runtime';
import { z } from 'zod';
import { type ProviderStore, storedProvider } from './provider-store.js';

export const listProviders = (store: ProviderStore) =>
  defineFunction({
    id: 'harness::provider::list',
    description: 'Every registered provider by id, with its effective URL and max tokens (never a credential)',
    input: z.object({}).strict(),
    output: z.object({
      providers: z.array(storedProvider.extend({ api_url: z.string(), max_tokens: z.number().int() })),
    }),
    async handler() {
      const providers = await store.all();
      return { providers: providers.map((provider) => ({ ...provider, ...store.effective(provider) })) };
    },
  });
