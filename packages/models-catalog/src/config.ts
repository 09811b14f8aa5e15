import { z } from 'zod';

export const configSchema = z
  .object({
    /** Engine state scope holding one key per provider. */
    state_scope: z.string().min(1).default('models'),
    /** Pub/sub topic announcing a provider's changed models. */
    changes_topic: z.string().min(1).default('models::changed'),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_MODELS_STATE_SCOPE: 'state_scope',
};
