import { registerSecret, type Worker, type WorkerSpec } from '@iii-harness/runtime';
import { type Config, configSchema, envOverrides, KEY_ENV } from './config.js';
import { CredentialStore } from './credential-store.js';
import { deleteToken } from './delete-token.js';
import { parseCredentialKey } from './encryption.js';
import { getToken } from './get-token.js';
import { listProviders } from './list-providers.js';
import { effectiveEnvVars } from './providers.js';
import { setToken } from './set-token.js';
import { status } from './status.js';
import { Vault } from './vault.js';

/** The whole bus surface of auth-credentials; `env` supplies IIH_CREDENTIALS_KEY and the fallback keys. */
export function registerWith(env: NodeJS.ProcessEnv) {
  return (worker: Worker<Config>): void => {
    registerSecret(env[KEY_ENV]);
    const key = parseCredentialKey(env[KEY_ENV], KEY_ENV);
    const store = new CredentialStore({
      path: worker.config.store_path,
      key,
      warn: (details, message) => worker.logger.warn(details, message),
    });
    const vault = new Vault(store, effectiveEnvVars(worker.config.env_vars), env);
    worker.function(setToken(vault, worker.config));
    worker.function(getToken(vault));
    worker.function(deleteToken(vault, worker.config));
    worker.function(status(vault));
    worker.function(listProviders(vault));
    worker.logger.info({ path: store.path, encrypted: store.encrypted }, 'credential vault ready');
  };
}

export const register = registerWith(process.env);

/** The worker spec, reading its key and fallback credentials from `env` (tests pass their own). */
export function authCredentialsSpec(env: NodeJS.ProcessEnv = process.env): WorkerSpec<Config> {
  return {
    name: 'auth-credentials',
    description: 'The provider credential vault: file-backed, encrypted at rest when a key is set, with env fallback',
    config: configSchema,
    env: envOverrides,
    register: registerWith(env),
  };
}

export const authCredentialsWorker: WorkerSpec<Config> = authCredentialsSpec();
