import { defineFunction, HarnessError } from '@iii-harness/runtime';
import { z } from 'zod';
import { providerId } from './providers.js';
import { tokenSource, type Vault } from './vault.js';

export const getToken = (vault: Vault) =>
  defineFunction({
    id: 'auth::get_token',
    description: "A provider's credential: the stored one, else its environment variable; not_found when neither",
    input: z.object({ provider: providerId }).strict(),
    output: z.object({ provider: z.string(), token: z.string(), source: tokenSource }),
    async handler({ provider }, { logger }) {
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
    },
  });
