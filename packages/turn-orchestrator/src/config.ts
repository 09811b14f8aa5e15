import { z } from 'zod';

export const configSchema = z
  .object({
    /** Generations (model calls) per turn when run::start gives no `max_turns`. */
    default_max_turns: z.number().int().positive().max(1_000).default(16),
    /** How tools are shown to the model: one `agent_trigger` tool, or one tool per allowed function. */
    default_exposure: z.enum(['agent_trigger', 'native']).default('agent_trigger'),
    /** Longest provider stream. */
    provider_timeout_ms: z.number().int().positive().default(300_000),
    /** Longest function call the model makes. */
    function_timeout_ms: z.number().int().positive().default(600_000),
    /** The policy must answer within this, or the call is denied (`gate_unavailable`). */
    policy_timeout_ms: z.number().int().positive().default(5_000),
    /** Window of a before/after function-call hook. */
    hook_timeout_ms: z.number().int().positive().default(2_000),
    /** Deltas are batched into one `message_update` per this many ms ... */
    coalesce_ms: z.number().int().nonnegative().default(50),
    /** ... or per this many characters, whichever comes first. */
    coalesce_chars: z.number().int().positive().default(4_096),
    /** A function result longer than this is cut (the model is told). */
    max_result_chars: z.number().int().positive().default(100_000),
    /** Native mode shows at most this many functions. */
    max_native_tools: z.number().int().positive().default(64),
    /** Calls to the session store and the approval gate (their workers answer in milliseconds). */
    call_timeout_ms: z.number().int().positive().default(30_000),
    /**
     * How long a turn waits, with backoff, for a worker it needs that is not there (a provider or
     * the session store restarting) before it fails with the reason; the turn shows it is waiting.
     */
    unavailable_wait_ms: z.number().int().nonnegative().default(30_000),
    /** A delivery of a step job drives the turn through consecutive states for at most this long, then hands over. */
    driver_budget_ms: z.number().int().positive().default(60_000),
    /**
     * Between saves (each tells whether run::abort was asked), the turn reads its record for the
     * abort flag at most this often: an abort is noticed within it, at about one read per model call.
     */
    abort_check_ms: z.number().int().nonnegative().default(100),
    /** A model's limits and price are asked of the catalog at most this often. */
    catalog_ttl_ms: z.number().int().nonnegative().default(30_000),
    /** Which hook topics have subscribers is asked at most this often (a new subscriber waits this long). */
    hooks_ttl_ms: z.number().int().nonnegative().default(2_000),
    /**
     * Which optional workers are registered (context-compaction, llm-budget) is asked at most this
     * often: a worker started meanwhile is used within this time.
     */
    functions_ttl_ms: z.number().int().nonnegative().default(2_000),
    /**
     * A turn is budgeted when llm-budget is registered as it starts, or was seen registered (by any
     * orchestrator process) within this long: a budget worker that is restarting is waited for and
     * the turn fails closed if it stays away — it never runs unchecked. 0: only when registered.
     */
    budget_absence_grace_ms: z.number().int().nonnegative().default(600_000),
    /**
     * `compaction::plan` is asked only when the orchestrator's own estimate of the request (UTF-8
     * bytes / 3, which errs high for most text) reaches this share of the model's usable window:
     * far below the window the plan's answer is known. 0 asks before every model call.
     */
    compaction_precheck_ratio: z.number().min(0).max(1).default(0.5),
    /** `compaction::plan` must answer within this, or the call goes ahead unplanned. */
    compaction_plan_timeout_ms: z.number().int().positive().default(10_000),
    /** The longest a compaction may hold up a model call (it may summarise, in chunks). */
    compaction_timeout_ms: z.number().int().positive().default(300_000),
    /**
     * With llm-budget present, each model call reserves its worst case: the prompt plus this many
     * output tokens at most (the provider's configured max tokens and the model's max output cap
     * it further), and asks the provider for no more than the reservation grants.
     */
    budget_max_output_tokens: z.number().int().positive().default(8_192),
    /** How long a `run::start` that was interrupted keeps the session's start claimed (others answer session_busy). */
    start_claim_ms: z.number().int().positive().default(10_000),
    /** Re-enqueue steps of turns that look stalled (seconds-first cron). */
    recovery_cron: z.string().min(1).default('*/30 * * * * *'),
    /** A working turn untouched for this long is considered stalled by the recovery sweep. */
    stalled_after_ms: z.number().int().positive().default(60_000),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_TURN_DEFAULT_MAX_TURNS: 'default_max_turns',
  IIH_TURN_EXPOSURE: 'default_exposure',
  IIH_TURN_PROVIDER_TIMEOUT_MS: 'provider_timeout_ms',
  IIH_TURN_FUNCTION_TIMEOUT_MS: 'function_timeout_ms',
  IIH_TURN_POLICY_TIMEOUT_MS: 'policy_timeout_ms',
  IIH_TURN_UNAVAILABLE_WAIT_MS: 'unavailable_wait_ms',
};
