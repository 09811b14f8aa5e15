import { z } from 'zod';

/** Provider wire shapes shared by the provider workers and the harness's provider registry. */

/** A provider id: functions are `provider::<id>::*`; the vault keys credentials by it too. */
export const providerId = z
  .string()
  .max(64)
  .regex(
    /^[a-z0-9][a-z0-9_-]*$/,
    'a provider id is lowercase letters, digits, "_" or "-", starting with a letter or digit',
  );

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const maxTokens = z.number().int().positive().max(10_000_000);

/** What a provider worker declares about itself when it starts. No secrets: credentials live in auth-credentials. */
export const providerDeclaration = z
  .object({
    id: providerId,
    display_name: z.string().min(1).max(128),
    /** Where the vault looks for the key when none is stored, e.g. ANTHROPIC_API_KEY. */
    credential_env_var: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name')
      .optional(),
    default_url: httpUrl,
    default_max_tokens: maxTokens,
    supports_model_listing: z.boolean(),
    /** `local` providers (LM Studio, llama.cpp) work without a credential. */
    kind: z.enum(['cloud', 'local']).default('cloud'),
  })
  .strict();
export type ProviderDeclaration = z.output<typeof providerDeclaration>;

/** What `harness::provider::resolve` answers: the declaration with the operator's overrides and the credential. */
export const resolvedProvider = z.object({
  provider: providerId,
  kind: z.enum(['cloud', 'local']),
  api_url: z.string(),
  max_tokens: maxTokens,
  credential: z.object({
    configured: z.boolean(),
    source: z.enum(['stored', 'environment', 'none']),
    /** Only in this reply, which only the provider asks for; never logged. */
    token: z.string().optional(),
  }),
});
export type ResolvedProvider = z.output<typeof resolvedProvider>;

/**
 * A data channel the caller opened, as it crosses the wire. iii-sdk hands the serving handler a
 * ChannelWriter built from the ref, so the schema accepts either form.
 */
export const channelWriterRef = z.object({
  channel_id: z.string().min(1),
  access_key: z.string().min(1),
  direction: z.literal('write'),
});
export type ChannelWriterRef = z.output<typeof channelWriterRef>;

const isWriterLike = (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { sendMessage?: unknown }).sendMessage === 'function' &&
  typeof (value as { close?: unknown }).close === 'function';

export const channelArg = z.custom<ChannelWriterRef>(
  (value) => channelWriterRef.safeParse(value).success || isWriterLike(value),
  'channel must be a writer ref {channel_id, access_key, direction: "write"}',
);
