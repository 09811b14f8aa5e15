import { defineFunction } from '@iii-harness/runtime';
import { z } from 'zod';
import { providerId } from './providers.js';
import { providerStatus, type Vault } from './vault.js';

export const status = (vault: Vault) =>
  defineFunction({
    id: 'auth::status',
    description:
      'Whether providers have a credential and where it comes from (stored or environment); never the secret',
    input: z.object({ provider: providerId.optional() }).strict(),
    output: z.object({ providers: z.array(providerStatus) }),
    async handler({ provider }) {
      return { providers: await vault.status(provider) };
    },
  });
