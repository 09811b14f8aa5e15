import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { ProviderStore } from './provider-store.js';

export const registerProvider = (store: ProviderStore) =>
  (async (declaration, { logger }) => {
    await store.save(declaration);
    logger.info({ provider: declaration.id, kind: declaration.kind }, 'provider registered');
    return { ok: true as const, id: declaration.id };
  }) satisfies Handler<typeof contracts.harness.providerRegister>;
