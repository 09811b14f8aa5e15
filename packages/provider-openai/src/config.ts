import { providerConfigShape, providerEnvOverrides } from '@iii-harness/provider-kit';
import { z } from 'zod';

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

export const configSchema = z
  .object({
    ...providerConfigShape,
    /** Output limit when a request names none (the harness's resolve may override it). */
    default_max_tokens: z.number().int().positive().default(8_192),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

/** IIH_OPENAI_BASE_URL, IIH_OPENAI_MAX_RETRIES, IIH_OPENAI_DISCOVER_ON_START. The key itself is OPENAI_API_KEY. */
export const envOverrides = providerEnvOverrides('IIH_OPENAI');
