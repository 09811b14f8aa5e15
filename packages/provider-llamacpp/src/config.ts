import { providerConfigShape, providerEnvOverrides } from '@iii-harness/provider-kit';
import { z } from 'zod';

/** llama-server's default address; the OpenAI-compatible routes are under /v1. */
export const DEFAULT_BASE_URL = 'http://127.0.0.1:8080';

export const configSchema = z
  .object({
    ...providerConfigShape,
    /** Output limit when a request names none (the harness's resolve may override it). */
    default_max_tokens: z.number().int().positive().default(4_096),
    /** How long a request or discovery waits for llama-server to finish loading its model. */
    ready_timeout_ms: z.number().int().positive().default(120_000),
    /** First interval between `/health` polls while loading (doubles up to 2 s). */
    health_poll_ms: z.number().int().positive().default(250),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

/** IIH_LLAMACPP_BASE_URL, IIH_LLAMACPP_MAX_RETRIES, IIH_LLAMACPP_DISCOVER_ON_START. An optional key is LLAMACPP_API_KEY. */
export const envOverrides = providerEnvOverrides('IIH_LLAMACPP');
