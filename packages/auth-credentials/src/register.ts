import { registerSecret, type Worker, type WorkerSpec } from '@iii-harness/runtime';
import { contracts } from '@iii-harness/types';
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

const { auth } = contracts;

/**
 * The whole bus surface of auth-credentials; `env` supplies IIH_CREDENTIALS_KEY and the fallback
 * keys. Functions only: it owns the credentials file and publishes changes on `changes_topic`.
 * Every credential it holds is registered as a secret at start, so none can leave this process
 * in a log line, an error or an event.
 */
export function registerWith(env: NodeJS.ProcessEnv) {
  return async (worker: Worker<Config>): Promise<void> => {
    registerSecret(env[KEY_ENV]);
    const key = parseCredentialKey(env[KEY_ENV], KEY_ENV);
    const store = new CredentialStore({
      path: worker.config.store_path,
      key,
      warn: (details, message) => worker.logger.warn(details, message),
    });
    const vault = new Vault(store, effectiveEnvVars(worker.config.env_vars), env);
    worker.function(auth.setToken, setToken(vault, worker.config));
    worker.function(auth.getToken, getToken(vault));
    worker.function(auth.deleteToken, deleteToken(vault, worker.config));
    worker.function(auth.status, status(vault));
    worker.function(auth.listProviders, listProviders(vault));
    await vault
      .registerSecrets()
      .catch((error: unknown) =>
        worker.logger.warn(
          { err: error },
          'the credentials file cannot be read yet; its tokens are masked once it can',
        ),
      );
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
