import { defineFunction } from '@iii-harness/runtime';
import { z } from 'zod';
import { type ProviderStore, providerDeclaration } from './provider-store.js';

export const registerProvider = (store: ProviderStore) =>
  defineFunction({
    id: 'harness::provider::register',
    description:
      'Declare a provider (id, display name, credential env var, default URL and max tokens, model listing); replaces an earlier declaration',
    input: providerDeclaration,
    output: z.object({ ok: z.literal(true), id: z.string() }),
    async handler(declaration, { logger }) {
      await store.save(declaration);
      logger.info({ provider: declaration.id, kind: declaration.kind }, 'provider registered');
      return { ok: true as const, id: declaration.id };
    },
  });
