import { providerConfigShape, providerEnvOverrides } from '@iii-harness/provider-kit';
import { z } from 'zod';

/** Moonshot's international endpoint; China is `https://api.moonshot.cn/v1` (set `base_url`). */
export const DEFAULT_BASE_URL = 'https://api.moonshot.ai/v1';

export const configSchema = z
  .object({
    ...providerConfigShape,
    /** Output limit when a request names none (the harness's resolve may override it). */
    default_max_tokens: z.number().int().positive().default(8_192),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

/** IIH_KIMI_BASE_URL, IIH_KIMI_MAX_RETRIES, IIH_KIMI_DISCOVER_ON_START. The key itself is MOONSHOT_API_KEY. */
export const envOverrides = providerEnvOverrides('IIH_KIMI');
