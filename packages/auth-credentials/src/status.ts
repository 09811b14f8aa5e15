import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { Vault } from './vault.js';

export const status = (vault: Vault) =>
  (async ({ provider }) => ({ providers: await vault.status(provider) })) satisfies Handler<
    typeof contracts.auth.status
  >;
