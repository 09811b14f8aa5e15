import { providerId } from '@iii-harness/types';
import { z } from 'zod';

const ratio = z.number().positive().max(1);
const tokens = z.number().int().positive();

/** Which counter a model's text is measured with; the first matching rule wins (see tokens.ts). */
const tokenizerRule = z
  .object({
    /** The provider id, exactly. */
    provider: z.string().optional(),
    /** A regular expression on the model id. */
    model_pattern: z.string().optional(),
    encoding: z.enum(['o200k_base', 'cl100k_base', 'estimate']),
  })
  .strict();
export type TokenizerRule = z.infer<typeof tokenizerRule>;

/** Every default is explained in the README's Config section. */
export const configSchema = z
  .object({
    /** Engine state scope for leases and per-session health. */
    state_scope: z.string().min(1).default('compaction'),
    /** Output reserve when the caller does not say what max_tokens it will ask for. */
    default_output_reserve_tokens: tokens.default(8_192),
    /** Share of the window kept free for the estimate's error and vendor framing. */
    safety_margin_ratio: ratio.default(0.05),
    /** Windows whose usable part would be smaller than this are refused. */
    min_usable_tokens: tokens.default(1_024),
    /** A cheap stage (cap, prune) counts as enough when the request is at most this share of the usable window. */
    fill_after_ratio: ratio.default(0.7),
    /** The kept tail: recent whole exchanges up to this share of the usable window ... */
    tail_ratio: ratio.default(0.25),
    /** ... and never more than this many tokens. */
    tail_max_tokens: tokens.default(20_000),
    /** A single function result above this share of the usable window is capped ... */
    cap_result_ratio: ratio.default(0.2),
    /** ... to about this share of the usable window (head and tail kept). */
    capped_result_ratio: ratio.default(0.08),
    /** Outputs smaller than this are never pruned: the marker would not be much smaller. */
    prune_min_tokens: tokens.default(64),
    /** Output cap of each summariser call, and at most this share of the usable window. */
    summary_max_tokens: tokens.default(4_096),
    summary_ratio: ratio.default(0.15),
    /** Each function result is cut to this many characters (head and tail) in the summariser's input. */
    summary_result_chars: tokens.default(2_000),
    /** The fact ledger: at most this many facts, and at most this share of the usable window. */
    ledger_max_facts: tokens.default(400),
    ledger_ratio: ratio.default(0.12),
    /** At most this many facts are taken from one function call or result. */
    ledger_facts_per_message: tokens.default(40),
    /** Summariser (default: the session's provider and model, the ones compact_now is asked about). */
    summariser: z
      .object({ provider: providerId, model: z.string().min(1) })
      .strict()
      .optional(),
    summariser_timeout_ms: tokens.default(180_000),
    /** A compaction's lease; renewed every third of it while the compaction runs. */
    lease_ttl_ms: tokens.default(60_000),
    /** How long compact_now waits for another compaction of the same session before answering busy. */
    busy_wait_ms: z.number().int().nonnegative().default(75_000),
    /** Consecutive failures that open a session's circuit breaker. */
    breaker_threshold: tokens.default(3),
    tokenizers: z.array(tokenizerRule).default([
      { provider: 'openai', encoding: 'o200k_base' },
      { model_pattern: '^(gpt-4o|gpt-4\\.1|gpt-5|gpt-oss|o[1-9]|chatgpt-)', encoding: 'o200k_base' },
      { model_pattern: '^gpt-(4|3\\.5)', encoding: 'cl100k_base' },
    ]),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_COMPACTION_STATE_SCOPE: 'state_scope',
  IIH_COMPACTION_LEASE_TTL_MS: 'lease_ttl_ms',
  IIH_COMPACTION_SUMMARY_MAX_TOKENS: 'summary_max_tokens',
  IIH_COMPACTION_TAIL_MAX_TOKENS: 'tail_max_tokens',
};
