import { z } from 'zod';

/** An environment variable name (what a provider's key is read from when nothing is stored). */
export const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name');

/** Where each known provider's key is found in the environment when the vault holds none. */
export const DEFAULT_ENV_VARS: Readonly<Record<string, string>> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  kimi: 'MOONSHOT_API_KEY',
  lmstudio: 'LMSTUDIO_API_KEY',
  llamacpp: 'LLAMACPP_API_KEY',
};

/** The defaults with the config's entries laid over them; `null` removes a default. */
export function effectiveEnvVars(overrides: Record<string, string | null>): Record<string, string> {
  const merged: Record<string, string> = { ...DEFAULT_ENV_VARS };
  for (const [provider, variable] of Object.entries(overrides)) {
    if (variable === null) delete merged[provider];
    else merged[provider] = variable;
  }
  return merged;
}
