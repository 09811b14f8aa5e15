import { defineFunction } from '@iii-harness/runtime';
import { z } from 'zod';
import type { Vault } from './vault.js';

export const listProviders = (vault: Vault) =>
  defineFunction({
    id: 'auth::list_providers',
    description:
      'Provider ids the vault knows: those with a stored credential and those with a known environment variable',
    input: z.object({}).strict(),
    output: z.object({ providers: z.array(z.string()) }),
    async handler() {
      return { providers: await vault.providerIds() };
    },
  });
