import { z } from 'zod';
import { contract } from '../contract.js';
import { providerId } from '../provider.js';

/**
 * The `auth-credentials` worker: the provider credential vault (a file, sealed when a key is set),
 * with each provider's environment variable as the fallback. Only `get_token` ever returns a secret.
 */

/** Where a provider's credential comes from: the vault file wins over the environment. */
export const tokenSource = z.enum(['stored', 'environment']);
export type TokenSource = z.output<typeof tokenSource>;

/**
 * A token as the vault accepts it. At least 8 characters, because shorter values are not masked;
 * no whitespace or control characters, which are always a paste accident (a trailing newline)
 * and would break the HTTP header the token ends up in.
 */
export const credentialToken = z
  .string()
  .min(8, 'a token has at least 8 characters')
  .max(16_384, 'a token has at most 16384 characters')
  .regex(/^[^\s\p{Cc}]+$/u, 'a token cannot contain whitespace or control characters');

/** What `auth::status` says about a provider: never the secret, not even part of it. */
export const providerCredentialStatus = z.object({
  provider: providerId,
  configured: z.boolean(),
  source: tokenSource.nullable(),
  /** The environment variable consulted when nothing is stored (null: none is known). */
  env_var: z.string().nullable(),
  /** When the stored token was last set. */
  updated_at: z.string().optional(),
});
export type ProviderCredentialStatus = z.output<typeof providerCredentialStatus>;

/** What the changes topic (`auth::changed` by default) carries: which provider changed and how it resolves now. */
export const credentialChange = z.object({
  provider: providerId,
  action: z.enum(['set', 'delete']),
  configured: z.boolean(),
  source: tokenSource.nullable(),
});
export type CredentialChange = z.output<typeof credentialChange>;

const oneProvider = z.object({ provider: providerId }).strict();

export const auth = {
  setToken: contract({
    id: 'auth::set_token',
    description: "Store (or replace) a provider's credential in the vault file; it wins over the environment",
    input: z.object({ provider: providerId, token: credentialToken }).strict(),
    output: z.object({
      provider: providerId,
      source: z.literal('stored'),
      replaced: z.boolean(),
      updated_at: z.string(),
    }),
  }),
  getToken: contract({
    id: 'auth::get_token',
    description: "A provider's credential: the stored one, else its environment variable; not_found when neither",
    input: oneProvider,
    output: z.object({ provider: providerId, token: z.string(), source: tokenSource }),
  }),
  deleteToken: contract({
    id: 'auth::delete_token',
    description: "Remove a provider's stored credential (idempotent); says whether the environment still provides one",
    input: oneProvider,
    output: z.object({
      provider: providerId,
      deleted: z.boolean(),
      configured: z.boolean(),
      source: tokenSource.nullable(),
    }),
  }),
  status: contract({
    id: 'auth::status',
    description:
      'Whether providers have a credential and where it comes from (stored or environment); never the secret',
    input: z.object({ provider: providerId.optional() }).strict(),
    output: z.object({ providers: z.array(providerCredentialStatus) }),
  }),
  listProviders: contract({
    id: 'auth::list_providers',
    description:
      'Provider ids the vault knows: those with a stored credential and those with a known environment variable',
    input: z.object({}).strict(),
    output: z.object({ providers: z.array(providerId) }),
  }),
};
