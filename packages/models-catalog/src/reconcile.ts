import { type Handler, HarnessError } from '@iii-harness/runtime';
import type { CatalogChanges, contracts, Model } from '@iii-harness/types';
import type { CatalogStore } from './catalog-store.js';
import type { Config } from './config.js';

/** Ids added, removed and changed between two lists of one provider's models. */
export function diffModels(before: Model[], after: Model[]): CatalogChanges {
  const old = new Map(before.map((m) => [m.id, JSON.stringify(m)]));
  const next = new Map(after.map((m) => [m.id, JSON.stringify(m)]));
  return {
    added: [...next.keys()].filter((id) => !old.has(id)).sort(),
    removed: [...old.keys()].filter((id) => !next.has(id)).sort(),
    updated: [...next.keys()].filter((id) => old.has(id) && old.get(id) !== next.get(id)).sort(),
  };
}

export const reconcile = (store: CatalogStore, config: Config) =>
  (async ({ provider, models }, { bus, logger }) => {
    const before = await store.replace(provider, models);
    const diff = diffModels(before, models);
    if (diff.added.length || diff.removed.length || diff.updated.length) {
      logger.info({ provider, ...diff }, 'catalog changed');
      await bus.publish(config.changes_topic, { provider, ...diff }).catch((error: unknown) => {
        // The write is done; a lost notification must not fail the provider's reconcile.
        logger.warn(
          { err: error instanceof HarnessError ? error.toEnvelope() : error },
          'could not publish catalog change',
        );
      });
    }
    return { provider, count: models.length, ids: models.map((m) => m.id).sort(), ...diff };
  }) satisfies Handler<typeof contracts.models.reconcile>;
