import { type Handler, HarnessError } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { Vault } from './vault.js';

export const getToken = (vault: Vault) =>
  (async ({ provider }, { logger }) => {
    const found = await vault.token(provider);
    if (!found) {
      const variable = vault.envVarOf(provider);
      throw new HarnessError(
        'not_found',
        `no credential for ${provider}: none stored${variable ? ` and ${variable} is not set` : ' and no environment variable is known for it'}`,
        { reason: 'credential_missing' },
      );
    }
    logger.debug({ provider, source: found.source }, 'credential read');
    return { provider, token: found.token, source: found.source };
  }) satisfies Handler<typeof contracts.auth.getToken>;
