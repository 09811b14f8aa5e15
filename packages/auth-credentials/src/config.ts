import { providerId } from '@iii-harness/types';
import { z } from 'zod';
import { envVarName } from './providers.js';

export const configSchema = z
  .object({
    /** The credentials file; `~/` is the user's home directory. */
    store_path: z.string().min(1).default('~/.iii/credentials.json'),
    /** Extra or changed provider → environment variable entries (`null` drops a default). */
    env_vars: z.record(providerId, envVarName.nullable()).default({}),
    /** Pub/sub topic announcing that a provider's stored credential changed (never the secret). */
    changes_topic: z.string().min(1).default('auth::changed'),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_CREDENTIALS_PATH: 'store_path',
};

/** The encryption key is a secret, so it comes from the environment only, never from the config file. */
export const KEY_ENV = 'IIH_CREDENTIALS_KEY';
