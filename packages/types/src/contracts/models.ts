import { z } from 'zod';
import { contract } from '../contract.js';
import { model, modelCapability } from '../model.js';

/** The `models-catalog` worker: what each provider registered. No seed: providers write it. */

const modelRef = z.object({ provider: z.string().min(1), model_id: z.string().min(1) }).strict();

/** What a reconcile changed, by model id. */
export const catalogChanges = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  updated: z.array(z.string()),
});
export type CatalogChanges = z.output<typeof catalogChanges>;

export const models = {
  list: contract({
    id: 'models::list',
    description: "List catalog models, optionally only one provider's or only those with a capability",
    input: z.object({ provider: z.string().min(1).optional(), capability: modelCapability.optional() }).strict(),
    output: z.object({ models: z.array(model) }),
  }),
  get: contract({
    id: 'models::get',
    description: 'One model of a provider; not_found when the provider has not registered it',
    input: modelRef,
    output: z.object({ model }),
  }),
  supports: contract({
    id: 'models::supports',
    description: 'Whether a model has a capability (false, with known: false, for unknown models)',
    input: modelRef.extend({ capability: modelCapability }),
    output: z.object({ supported: z.boolean(), known: z.boolean() }),
  }),
  reconcile: contract({
    id: 'models::reconcile',
    description: "Replace one provider's models with what it discovered (the only write path)",
    input: z
      .object({ provider: z.string().min(1), models: z.array(model) })
      .strict()
      .superRefine(({ provider, models }, ctx) => {
        for (const [i, m] of models.entries())
          if (m.provider !== provider)
            ctx.addIssue({
              code: 'custom',
              path: ['models', i, 'provider'],
              message: `model ${m.id} belongs to ${m.provider}, not ${provider}`,
            });
        const ids = models.map((m) => m.id);
        const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
        if (duplicate)
          ctx.addIssue({ code: 'custom', path: ['models'], message: `model id ${duplicate} appears twice` });
      }),
    output: z
      .object({ provider: z.string(), count: z.number().int(), ids: z.array(z.string()) })
      .extend(catalogChanges.shape),
  }),
};
