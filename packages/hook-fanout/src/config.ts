import { z } from 'zod';

export const configSchema = z
  .object({
    /** Window used when a call gives no `timeout_ms`. */
    default_timeout_ms: z.number().int().positive().max(60_000).default(2_000),
    /** The longest window a caller may ask for. */
    max_timeout_ms: z.number().int().positive().max(300_000).default(30_000),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_HOOK_DEFAULT_TIMEOUT_MS: 'default_timeout_ms',
  IIH_HOOK_MAX_TIMEOUT_MS: 'max_timeout_ms',
};
