export { type Config, configSchema, envOverrides, KEY_ENV } from './config.js';
export { CredentialStore, type CredentialStoreOptions, expandHome } from './credential-store.js';
export { type CredentialKey, parseCredentialKey } from './encryption.js';
export { FILE_VERSION, type Providers, type StoredCredential } from './file-format.js';
export { DEFAULT_ENV_VARS, effectiveEnvVars } from './providers.js';
export { authCredentialsSpec, authCredentialsWorker, register, registerWith } from './register.js';
export { Vault } from './vault.js';
