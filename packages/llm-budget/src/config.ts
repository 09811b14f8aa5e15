import { timeZone } from '@iii-harness/types';
import { z } from 'zod';

const scopeName = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'a state scope name');

const HOUR = 3_600_000;

export const configSchema = z
  .object({
    /** Calendar periods start at midnight here unless a budget names its own zone. */
    time_zone: timeZone.default('UTC'),
    /** Thresholds (percent of a cap) a new budget alerts at. */
    default_alert_thresholds_pct: z.array(z.number().int().min(1).max(100)).max(10).default([50, 80, 100]),
    /**
     * Below this, a shrunken output cap is not worth offering and the call is refused. A request
     * asking for less than this is never shrunk.
     */
    min_output_tokens: z.number().int().min(1).default(1024),
    /**
     * How long a granted reservation lives. A holder that has neither committed nor released by
     * then is presumed dead and the reservation is settled at its full amount. Longer than the
     * longest provider call (the providers' total budget is 300 s).
     */
    reservation_ttl_ms: z
      .number()
      .int()
      .min(1_000)
      .max(12 * HOUR)
      .default(600_000),
    /**
     * A reserve that has not finished after this long is presumed crashed: a retry of the same
     * reservation_id (or the sweeper) takes it over. A reserve takes milliseconds.
     */
    reserve_timeout_ms: z.number().int().min(100).max(HOUR).default(30_000),
    /**
     * A model's price from the catalog is reused for this long (one `models::get` per model per
     * period instead of one per reserve); a price change reaches reservations within it. 0 = ask
     * every time.
     */
    price_ttl_ms: z.number().int().min(0).max(HOUR).default(10_000),
    /** How often the sweeper runs (expiry, interrupted reservations, record collection); 0 = never. */
    sweep_interval_ms: z.number().int().min(0).max(HOUR).default(5_000),
    /** Reservation records are kept this long, so a redelivered commit is still recognized. */
    record_retention_ms: z
      .number()
      .int()
      .min(HOUR)
      .max(30 * 24 * HOUR)
      .default(24 * HOUR),
    /** Engine state scopes this worker owns (prefix; see the README's State section). */
    state_prefix: scopeName.default('budget'),
  })
  .strict()
  .refine((c) => c.record_retention_ms > c.reservation_ttl_ms + c.reserve_timeout_ms, {
    message: 'record_retention_ms must exceed reservation_ttl_ms + reserve_timeout_ms',
    path: ['record_retention_ms'],
  });
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_BUDGET_TIME_ZONE: 'time_zone',
  IIH_BUDGET_MIN_OUTPUT_TOKENS: 'min_output_tokens',
  IIH_BUDGET_RESERVATION_TTL_MS: 'reservation_ttl_ms',
  IIH_BUDGET_RESERVE_TIMEOUT_MS: 'reserve_timeout_ms',
  IIH_BUDGET_SWEEP_INTERVAL_MS: 'sweep_interval_ms',
  IIH_BUDGET_PRICE_TTL_MS: 'price_ttl_ms',
  IIH_BUDGET_RECORD_RETENTION_MS: 'record_retention_ms',
  IIH_BUDGET_STATE_PREFIX: 'state_prefix',
};
