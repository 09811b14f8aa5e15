export { authCredentialsWorker, authCredentialsSpec, register, registerWith } from './register.js';
export { configSchema, envOverrides, KEY_ENV, type Config } from './config.js';
export { CredentialStore, expandHome, type CredentialStoreOptions } from './credential-store.js';
export { parseCredentialKey, type CredentialKey } from './encryption.js';
export { FILE_VERSION, type Providers, type StoredCredential } from './file-format.js';
export { DEFAULT_ENV_VARS, effectiveEnvVars, providerId } from './providers.js';
export { Vault, providerStatus, tokenSource, type ProviderStatus, type TokenSource } from './vault.js';
export type { CredentialChange } from './changes.js';
