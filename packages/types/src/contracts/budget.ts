import { z } from 'zod';
import { contract } from '../contract.js';
import type { Usage } from '../messages.js';

/**
 * The `llm-budget` worker: spending caps that hold under concurrency, across processes and crashes.
 * Money is integer micro-dollars everywhere on the wire (`*_micro_usd`, 1 USD = 1,000,000): a
 * float is rejected, never rounded. Times are milliseconds since the epoch.
 */

/** An id that can sit inside an engine state key: no `~` (our separator), no spaces. */
const wireId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'letters, digits and . _ : @ - only');

const microUsd = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const tokenCount = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** Tokens of one call: a billion is far beyond any model, and sums stay exact integers. */
const callTokens = z.number().int().nonnegative().max(1_000_000_000);
const epochMs = z.number().int().nonnegative();

export const budgetScopeKind = z.enum(['workspace', 'agent', 'session']);
export type BudgetScopeKind = z.infer<typeof budgetScopeKind>;

/** What one budget covers: one workspace, one agent, or one session. */
export const budgetScope = z.object({ kind: budgetScopeKind, id: wireId }).strict();
export type BudgetScope = z.infer<typeof budgetScope>;

/** What one call runs under; a call is checked against every budget covering any of these. */
export const callScopes = z
  .object({ workspace_id: wireId.optional(), agent_id: wireId.optional(), session_id: wireId.optional() })
  .strict()
  .refine((s) => s.workspace_id !== undefined || s.agent_id !== undefined || s.session_id !== undefined, {
    message: 'name at least one of workspace_id, agent_id, session_id',
  });
export type CallScopes = z.infer<typeof callScopes>;

export const budgetPeriod = z.enum(['day', 'week', 'month', 'total']);
export type BudgetPeriod = z.infer<typeof budgetPeriod>;

/** An IANA time zone this runtime knows (`Europe/Paris`, `UTC`). */
export const timeZone = z
  .string()
  .min(1)
  .max(64)
  .refine(
    (zone) => {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    },
    { message: 'an IANA time zone such as Europe/Paris or UTC' },
  );

export const alertThresholds = z
  .array(z.number().int().min(1).max(100))
  .max(10)
  .refine((list) => new Set(list).size === list.length, { message: 'thresholds must be distinct' })
  .transform((list) => [...list].sort((a, b) => a - b));

export const budgetId = wireId;
export const reservationId = wireId;

export const budgetRecord = z.object({
  budget_id: budgetId,
  name: z.string().max(200).optional(),
  scope: budgetScope,
  period: budgetPeriod,
  /** Calendar periods (day, week from Monday, month) start at midnight in this zone. */
  time_zone: z.string(),
  cap_micro_usd: microUsd.positive().optional(),
  cap_tokens: tokenCount.positive().optional(),
  /** Under a USD cap, a model without catalogue pricing is refused unless this is true (it then costs 0). */
  allow_unpriced: z.boolean(),
  alert_thresholds_pct: z.array(z.number().int()),
  /** Bumped by `reset`: usage starts again from zero in a new counter. */
  epoch: z.number().int().nonnegative(),
  epoch_started_at: epochMs,
  created_at: epochMs,
  updated_at: epochMs,
});
export type Budget = z.infer<typeof budgetRecord>;

const needsACap = (b: { cap_micro_usd?: number | null; cap_tokens?: number | null }) =>
  b.cap_micro_usd != null || b.cap_tokens != null;

export const budgetUsage = z.object({
  budget_id: budgetId,
  scope: budgetScope,
  period: budgetPeriod,
  period_start: epochMs,
  /** null for `total`. */
  period_end: epochMs.nullable(),
  /** `2026-03-08` (day), `2026-03-02` (week, its Monday), `2026-03` (month), `total`. */
  period_label: z.string(),
  cap_micro_usd: microUsd.optional(),
  cap_tokens: tokenCount.optional(),
  /** Settled calls (actual usage × price; expired reservations at their full amount). */
  spent_micro_usd: microUsd,
  spent_tokens: tokenCount,
  /** Worst cases of reservations not settled yet. */
  reserved_micro_usd: microUsd,
  reserved_tokens: tokenCount,
  /** cap − spent − reserved, never below 0; absent without that cap. */
  remaining_micro_usd: microUsd.optional(),
  remaining_tokens: tokenCount.optional(),
});
export type BudgetUsage = z.infer<typeof budgetUsage>;

/** Token counts of one provider call as the provider reported them (no money: the worker prices). */
export const callUsage = z
  .object({
    input_tokens: callTokens,
    output_tokens: callTokens,
    cache_read_tokens: callTokens.default(0),
    cache_write_tokens: callTokens.default(0),
    reasoning_tokens: callTokens.optional(),
  })
  .strict();
export type CallUsage = z.infer<typeof callUsage>;

const budgetRef = z.object({ budget_id: budgetId }).strict();

export const reserveGranted = z.object({
  status: z.literal('reserved'),
  reservation_id: reservationId,
  /** Use this as the call's max output: it is smaller than requested when `shrunk`. */
  max_output_tokens: z.number().int().positive(),
  requested_max_output_tokens: z.number().int().positive(),
  shrunk: z.boolean(),
  reserved_micro_usd: microUsd,
  reserved_tokens: tokenCount,
  /** false when the model has no catalogue price (its cost counts as 0). */
  priced: z.boolean(),
  expires_at: epochMs,
  budgets: z.array(
    z.object({
      budget_id: budgetId,
      scope: budgetScope,
      remaining_micro_usd: microUsd.optional(),
      remaining_tokens: tokenCount.optional(),
    }),
  ),
});

export const reserveRefused = z.object({
  status: z.literal('exceeded'),
  reservation_id: reservationId,
  budget_id: budgetId,
  /** `workspace:<id>`, `agent:<id>` or `session:<id>`: what the orchestrator puts in `budget_exceeded`. */
  scope: z.string(),
  reason: z.enum(['cap_micro_usd', 'cap_tokens', 'unpriced_model']),
  remaining_micro_usd: microUsd.optional(),
  remaining_tokens: tokenCount.optional(),
  needed_micro_usd: microUsd.optional(),
  needed_tokens: tokenCount.optional(),
  /** One sentence a user can read. */
  message: z.string(),
});

export const reserveResult = z.discriminatedUnion('status', [reserveGranted, reserveRefused]);
export type ReserveResult = z.infer<typeof reserveResult>;

export const settleResult = z.object({
  reservation_id: reservationId,
  /** How the reservation was settled: by the first of commit, release or expiry. */
  status: z.enum(['committed', 'released', 'expired']),
  /** true when an earlier settlement had already counted (this call changed nothing). */
  duplicate: z.boolean(),
  cost_micro_usd: microUsd,
  tokens: tokenCount,
  reserved_micro_usd: microUsd,
  /** Cost above the reservation (the caller under-declared input): counted anyway, never lost. */
  overrun_micro_usd: microUsd,
  priced: z.boolean(),
});
export type SettleResult = z.infer<typeof settleResult>;

export const budgetForecast = z.object({
  budget_id: budgetId,
  period_start: epochMs,
  period_end: epochMs.nullable(),
  spent_micro_usd: microUsd,
  spent_tokens: tokenCount,
  /** Spend per hour since the period started. */
  rate_micro_usd_per_hour: microUsd,
  rate_tokens_per_hour: tokenCount,
  /** Spend at the end of the period at that rate; null for `total`. */
  projected_micro_usd: microUsd.nullable(),
  projected_tokens: tokenCount.nullable(),
  /** When a cap is reached at that rate (before the period ends), else null. */
  exhausts_at: epochMs.nullable(),
  on_track: z.boolean(),
});
export type BudgetForecast = z.infer<typeof budgetForecast>;

/** Stream whose items are `budget_alert` events; group = `<scope kind>:<scope id>`. */
export const BUDGET_ALERTS_STREAM = 'budget::alerts';

export const budgetAlertEvent = z.object({
  type: z.literal('budget_alert'),
  budget_id: budgetId,
  scope: budgetScope,
  period_label: z.string(),
  metric: z.enum(['usd', 'tokens']),
  threshold_pct: z.number().int(),
  spent: microUsd,
  cap: microUsd,
  at: epochMs,
});
export type BudgetAlertEvent = z.infer<typeof budgetAlertEvent>;

const createInput = z
  .object({
    name: z.string().max(200).optional(),
    scope: budgetScope,
    period: budgetPeriod,
    time_zone: timeZone.optional(),
    cap_micro_usd: microUsd.positive().optional(),
    cap_tokens: tokenCount.positive().optional(),
    allow_unpriced: z.boolean().default(false),
    alert_thresholds_pct: alertThresholds.optional(),
  })
  .strict()
  .refine(needsACap, { message: 'a budget needs cap_micro_usd, cap_tokens or both' });

const updateInput = z
  .object({
    budget_id: budgetId,
    name: z.string().max(200).optional(),
    period: budgetPeriod.optional(),
    time_zone: timeZone.optional(),
    /** null removes that cap (the other must remain). */
    cap_micro_usd: microUsd.positive().nullable().optional(),
    cap_tokens: tokenCount.positive().nullable().optional(),
    allow_unpriced: z.boolean().optional(),
  })
  .strict()
  .refine((u) => Object.keys(u).length > 1, { message: 'name at least one field to change' });

export const budget = {
  create: contract({
    id: 'budget::create',
    description: 'Create a budget: a cap in micro-dollars and/or tokens on a workspace, agent or session, per period',
    input: createInput,
    output: z.object({ budget: budgetRecord }),
  }),
  get: contract({
    id: 'budget::get',
    description: 'One budget; not_found when absent',
    input: budgetRef,
    output: z.object({ budget: budgetRecord }),
  }),
  list: contract({
    id: 'budget::list',
    description: 'Budgets, all or those covering one scope, oldest first',
    input: z.object({ scope: budgetScope.optional() }).strict(),
    output: z.object({ budgets: z.array(budgetRecord) }),
  }),
  update: contract({
    id: 'budget::update',
    description: 'Change caps, period, time zone, name or allow_unpriced; a new period or zone starts a new counter',
    input: updateInput,
    output: z.object({ budget: budgetRecord }),
  }),
  delete: contract({
    id: 'budget::delete',
    description: 'Delete a budget: calls stop being checked against it; not_found when absent',
    input: budgetRef,
    output: z.object({ deleted: z.literal(true) }),
  }),
  usage: contract({
    id: 'budget::usage',
    description:
      'Spend, reservations and what is left in the current period, of one budget or every budget covering the scopes',
    input: z
      .object({ budget_id: budgetId.optional(), scopes: callScopes.optional(), at: epochMs.optional() })
      .strict()
      .refine((u) => (u.budget_id === undefined) !== (u.scopes === undefined), {
        message: 'give exactly one of budget_id and scopes',
      }),
    output: z.object({ usage: z.array(budgetUsage) }),
  }),
  reset: contract({
    id: 'budget::reset',
    description: 'Start the budget from zero now (reservations in flight settle on the old counter)',
    input: budgetRef,
    output: z.object({ budget: budgetRecord }),
  }),
  alertSet: contract({
    id: 'budget::alert_set',
    description: 'Set the thresholds (percent of a cap) at which budget_alert events fire, once each per period',
    input: z.object({ budget_id: budgetId, thresholds_pct: alertThresholds }).strict(),
    output: z.object({ budget: budgetRecord }),
  }),
  forecast: contract({
    id: 'budget::forecast',
    description: 'Project spend to the end of the current period from the rate so far',
    input: budgetRef,
    output: budgetForecast,
  }),
  reserve: contract({
    id: 'budget::reserve',
    description:
      "Reserve a call's worst case against every covering budget, atomically, or answer exceeded; may grant a smaller max_output_tokens",
    input: z
      .object({
        scopes: callScopes,
        provider: z.string().min(1).max(128),
        model: z.string().min(1).max(256),
        /** Every prompt token, cached or not (an upper bound: the worker prices it at the dearest input rate). */
        input_tokens: callTokens,
        max_output_tokens: callTokens.positive(),
        /** Smallest output cap worth granting instead of refusing (default: the worker's config). */
        min_output_tokens: callTokens.positive().optional(),
        /** Same id, same answer: a redelivered reserve holds nothing twice. One id names one call. */
        reservation_id: reservationId.optional(),
      })
      .strict(),
    output: reserveResult,
  }),
  commit: contract({
    id: 'budget::commit',
    description:
      'Settle a reservation to the usage the provider reported (without usage: at its full amount); idempotent',
    input: z.object({ reservation_id: reservationId, usage: callUsage.optional() }).strict(),
    output: settleResult,
  }),
  release: contract({
    id: 'budget::release',
    description: 'Give a reservation back: the call failed before producing any token; idempotent',
    input: z.object({ reservation_id: reservationId }).strict(),
    output: settleResult,
  }),
  sweep: contract({
    id: 'budget::sweep',
    description: 'Settle expired reservations, finish interrupted ones, collect old records (runs on a timer)',
    input: z.object({}).strict(),
    output: z.object({
      expired: z.number().int(),
      released: z.number().int(),
      completed: z.number().int(),
      folded: z.number().int(),
      collected: z.number().int(),
    }),
    metadata: { internal: true },
  }),
};

/** The token counts `budget::commit` takes, from a provider's `usage` (which may carry a float cost). */
export function commitUsageOf(usage: Usage): CallUsage {
  return {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cache_read_tokens: usage.cache_read_tokens,
    cache_write_tokens: usage.cache_write_tokens,
    ...(usage.reasoning_tokens === undefined ? {} : { reasoning_tokens: usage.reasoning_tokens }),
  };
}

/** `1234567` → `"$1.234567"`: micro-dollars for people, without a float on the way. */
export function formatMicroUsd(micro: number): string {
  const sign = micro < 0 ? '-' : '';
  const abs = Math.abs(micro);
  return `${sign}$${Math.floor(abs / 1_000_000)}.${String(abs % 1_000_000).padStart(6, '0')}`;
}
