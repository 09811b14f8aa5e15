import { providerConfigShape, providerEnvOverrides } from '@iii-harness/provider-kit';
import { z } from 'zod';

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export const configSchema = z
  .object({
    ...providerConfigShape,
    /** Output limit when a request names none (the harness's resolve may override it). */
    default_max_tokens: z.number().int().positive().default(8_192),
    /**
     * Which API serves a model: `auto` sends reasoning models (o-series, the gpt-5 family, `-pro`
     * and codex models) and those matching `responses_models` to the Responses API and the rest
     * to Chat Completions; `responses` or `chat_completions` sends every model to one of them
     * (`chat_completions` for a server that only speaks chat completions).
     */
    api: z.enum(['auto', 'responses', 'chat_completions']).default('auto'),
    /** Model-id prefixes that use the Responses API under `auto`, beside the reasoning models. */
    responses_models: z.array(z.string().min(1)).default([]),
    /** The reasoning summary asked of reasoning models on the Responses API (it streams as thinking). */
    reasoning_summary: z.enum(['auto', 'concise', 'detailed', 'none']).default('auto'),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

/** IIH_OPENAI_BASE_URL, IIH_OPENAI_MAX_RETRIES, IIH_OPENAI_DISCOVER_ON_START, IIH_OPENAI_API. The key itself is OPENAI_API_KEY. */
export const envOverrides = { ...providerEnvOverrides('IIH_OPENAI'), IIH_OPENAI_API: 'api' };
