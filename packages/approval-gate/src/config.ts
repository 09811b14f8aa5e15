import { approvalMode } from '@iii-harness/types';
import { z } from 'zod';

export const configSchema = z
  .object({
    /** Holds older than this are denied by the sweep (30 min). */
    pending_timeout_ms: z
      .number()
      .int()
      .positive()
      .default(30 * 60_000),
    /** Seconds-first cron expression of the sweep. */
    sweep_cron: z.string().min(1).default('*/15 * * * * *'),
    /** Mode of a session with no settings of its own. */
    default_mode: approvalMode.default('manual'),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_APPROVAL_PENDING_TIMEOUT_MS: 'pending_timeout_ms',
  IIH_APPROVAL_SWEEP_CRON: 'sweep_cron',
  IIH_APPROVAL_DEFAULT_MODE: 'default_mode',
};
