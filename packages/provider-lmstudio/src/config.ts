import { providerConfigShape, providerEnvOverrides } from '@iii-harness/provider-kit';
import { z } from 'zod';

/** LM Studio's OpenAI-compatible base; its own REST API lives at the same host under /api. */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:1234/v1';

export const configSchema = z
  .object({
    ...providerConfigShape,
    /** Output limit when a request names none (the harness's resolve may override it). */
    default_max_tokens: z.number().int().positive().default(4_096),
    /** How long `load_model` waits for LM Studio to load a model into memory. */
    load_timeout_ms: z.number().int().positive().default(120_000),
    /** How long `unload_model` waits. */
    unload_timeout_ms: z.number().int().positive().default(10_000),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

/** IIH_LMSTUDIO_BASE_URL, IIH_LMSTUDIO_MAX_RETRIES, IIH_LMSTUDIO_DISCOVER_ON_START. An optional key is LMSTUDIO_API_KEY. */
export const envOverrides = providerEnvOverrides('IIH_LMSTUDIO');
