import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { ProviderStore } from './provider-store.js';

export const listProviders = (store: ProviderStore) =>
  (async () => {
    const providers = await store.all();
    return { providers: providers.map((provider) => ({ ...provider, ...store.effective(provider) })) };
  }) satisfies Handler<typeof contracts.harness.providerList>;
