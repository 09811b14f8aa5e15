import { defineFunction } from '@iii-harness/runtime';
import { z } from 'zod';
import { announceChange } from './changes.js';
import type { Config } from './config.js';
import { providerId } from './providers.js';
import { tokenSource, type Vault } from './vault.js';

export const deleteToken = (vault: Vault, config: Config) =>
  defineFunction({
    id: 'auth::delete_token',
    description: "Remove a provider's stored credential (idempotent); says whether the environment still provides one",
    input: z.object({ provider: providerId }).strict(),
    output: z.object({
      provider: z.string(),
      deleted: z.boolean(),
      configured: z.boolean(),
      source: tokenSource.nullable(),
    }),
    async handler({ provider }, ctx) {
      const deleted = await vault.store.delete(provider);
      const configured = vault.fromEnvironment(provider) !== undefined;
      const after = { configured, source: configured ? ('environment' as const) : null };
      if (deleted) {
        ctx.logger.info({ provider }, 'credential deleted');
        await announceChange(config.changes_topic, { provider, action: 'delete', ...after }, ctx);
      }
      return { provider, deleted, ...after };
    },
  });
