import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import { announceChange } from './changes.js';
import type { Config } from './config.js';
import type { Vault } from './vault.js';

export const deleteToken = (vault: Vault, config: Config) =>
  (async ({ provider }, ctx) => {
    const deleted = await vault.store.delete(provider);
    const configured = vault.fromEnvironment(provider) !== undefined;
    const after = { configured, source: configured ? ('environment' as const) : null };
    if (deleted) {
      ctx.logger.info({ provider }, 'credential deleted');
      await announceChange(config.changes_topic, { provider, action: 'delete', ...after }, ctx);
    }
    return { provider, deleted, ...after };
  }) satisfies Handler<typeof contracts.auth.deleteToken>;
