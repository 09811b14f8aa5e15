import { defineFunction, HarnessError } from '@iii-harness/runtime';
import { type Model, model } from '@iii-harness/types';
import { z } from 'zod';
import type { CatalogStore } from './catalog-store.js';
import type { Config } from './config.js';

const changes = z.object({ added: z.array(z.string()), removed: z.array(z.string()), updated: z.array(z.string()) });
export type CatalogChanges = z.infer<typeof changes>;

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
  defineFunction({
    id: 'models::reconcile',
    description: "Replace one provider's models with what it discovered (the only write path)",
    input: z
      .object({ provider: z.string().min(1), models: z.array(model) })
      .strict()
      .superRefine(({ provider, models }, ctx) => {
        models.forEach((m, i) => {
          if (m.provider !== provider)
            ctx.addIssue({
              code: 'custom',
              path: ['models', i, 'provider'],
              message: `model ${m.id} belongs to ${m.provider}, not ${provider}`,
            });
        });
        const ids = models.map((m) => m.id);
        const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
        if (duplicate)
          ctx.addIssue({ code: 'custom', path: ['models'], message: `model id ${duplicate} appears twice` });
      }),
    output: z.object({ provider: z.string(), count: z.number().int(), ids: z.array(z.string()) }).extend(changes.shape),
    async handler({ provider, models }, { bus, logger }) {
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
    },
  });
