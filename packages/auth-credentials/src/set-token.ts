import { defineFunction } from '@iii-harness/runtime';
import { z } from 'zod';
import { announceChange } from './changes.js';
import type { Config } from './config.js';
import { providerId } from './providers.js';
import type { Vault } from './vault.js';

/**
 * A token as the vault accepts it. At least 8 characters, because shorter values are not masked
 * in logs; no whitespace or control characters, which are always a paste accident (a trailing
 * newline) and would break the HTTP header the token ends up in.
 */
export const token = z
  .string()
  .min(8, 'a token has at least 8 characters')
  .max(16_384, 'a token has at most 16384 characters')
  .regex(/^[^\s\p{Cc}]+$/u, 'a token cannot contain whitespace or control characters');

export const setToken = (vault: Vault, config: Config) =>
  defineFunction({
    id: 'auth::set_token',
    description: "Store (or replace) a provider's credential in the vault file; it wins over the environment",
    input: z.object({ provider: providerId, token }).strict(),
    output: z.object({
      provider: z.string(),
      source: z.literal('stored'),
      replaced: z.boolean(),
      updated_at: z.string(),
    }),
    async handler({ provider, token: secret }, ctx) {
      const { replaced, updated_at } = await vault.store.set(provider, secret);
      ctx.logger.info({ provider, replaced }, 'credential stored');
      await announceChange(config.changes_topic, { provider, action: 'set', configured: true, source: 'stored' }, ctx);
      return { provider, source: 'stored' as const, replaced, updated_at };
    },
  });
