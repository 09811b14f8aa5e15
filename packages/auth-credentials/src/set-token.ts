import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import { announceChange } from './changes.js';
import type { Config } from './config.js';
import type { Vault } from './vault.js';

export const setToken = (vault: Vault, config: Config) =>
  (async ({ provider, token }, ctx) => {
    const { replaced, updated_at } = await vault.store.set(provider, token);
    ctx.logger.info({ provider, replaced }, 'credential stored');
    await announceChange(config.changes_topic, { provider, action: 'set', configured: true, source: 'stored' }, ctx);
    return { provider, source: 'stored' as const, replaced, updated_at };
  }) satisfies Handler<typeof contracts.auth.setToken>;
