import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { Vault } from './vault.js';

export const listProviders = (vault: Vault) =>
  (async () => ({ providers: await vault.providerIds() })) satisfies Handler<typeof contracts.auth.listProviders>;
