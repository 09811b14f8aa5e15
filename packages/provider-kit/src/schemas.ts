import { message, model, thinkingConfig, toolSpec } from '@iii-harness/types';
import type { ChannelWriter } from 'iii-sdk/channel';
import { z } from 'zod';

export { type ThinkingConfig, type ToolSpec, thinkingConfig, toolSpec } from '@iii-harness/types';

const isChannelWriter = (value: unknown): value is ChannelWriter =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as ChannelWriter).sendMessage === 'function' &&
  typeof (value as ChannelWriter).close === 'function';

/**
 * The caller's data channel. On the wire it is a writer ref `{channel_id, access_key, direction: 'write'}`;
 * iii-sdk turns the ref into a ChannelWriter before the handler runs.
 */
export const channelWriter = z.custom<ChannelWriter>(
  isChannelWriter,
  'channel must be a writer ref {channel_id, access_key, direction: "write"}',
);

const request = {
  /** Caller-chosen id; `provider::<id>::abort {request_id}` stops this request. */
  request_id: z.string().min(1).max(200),
  model: z.string().min(1),
  messages: z.array(message).min(1),
  system: z.string().optional(),
  tools: z.array(toolSpec).optional(),
  max_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  thinking: thinkingConfig.optional(),
};

export const streamInput = z.object({ ...request, channel: channelWriter }).strict();
export type StreamInput = z.infer<typeof streamInput>;

export const completeInput = z.object(request).strict();
export type CompleteInput = z.infer<typeof completeInput>;

/** What every stream request carries, without the channel. */
export type ProviderRequest = CompleteInput;

export const abortInput = z.object({ request_id: z.string().min(1) }).strict();
export const abortOutput = z.object({ aborted: z.boolean() });

export const refreshModelsInput = z.object({}).strict();
export const refreshModelsOutput = z.object({
  provider: z.string(),
  count: z.number().int(),
  ids: z.array(z.string()),
});

/** What a provider declares to `harness::provider::register` when it starts. */
export const providerDeclaration = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
  display_name: z.string(),
  /** Environment variable holding the API key (absent for keyless local servers). */
  credential_env_var: z.string().optional(),
  default_url: z.string().url(),
  default_max_tokens: z.number().int().positive(),
  supports_model_listing: z.boolean(),
  kind: z.enum(['cloud', 'local']),
});
export type ProviderDeclaration = z.infer<typeof providerDeclaration>;

/** What `harness::provider::resolve` answers: the declaration merged with config and the credential. */
export const resolvedProvider = z.object({
  provider: z.string(),
  api_url: z.string(),
  max_tokens: z.number().int().positive(),
  credential: z.object({
    configured: z.boolean(),
    source: z.enum(['stored', 'environment', 'none']),
    token: z.string().optional(),
  }),
});
export type ResolvedProvider = z.infer<typeof resolvedProvider>;

export const modelList = z.array(model);
