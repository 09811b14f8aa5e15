import { z } from 'zod';

export const configSchema = z
  .object({
    /** Window used when a call gives no `timeout_ms`. */
    default_timeout_ms: z.number().int().positive().max(60_000).default(2_000),
    /** The longest window a caller may ask for. */
    max_timeout_ms: z.number().int().positive().max(300_000).default(30_000),
    /** How often an open window re-reads its replies when no wake-up came (a lost pub/sub message). */
    poll_ms: z.number().int().positive().max(60_000).default(250),
    /** Seconds-first cron of the sweep of windows left behind. */
    sweep_cron: z.string().min(1).default('0 * * * * *'),
    /** State scope of the open windows (shared by every copy of this worker). */
    state_scope: z.string().min(1).default('hook_fanout_windows'),
    /** Pub/sub topic on which a copy that took a reply wakes the copy waiting for it. */
    wake_topic: z.string().min(1).default('hook-fanout::replied'),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_HOOK_DEFAULT_TIMEOUT_MS: 'default_timeout_ms',
  IIH_HOOK_MAX_TIMEOUT_MS: 'max_timeout_ms',
  IIH_HOOK_SWEEP_CRON: 'sweep_cron',
};
