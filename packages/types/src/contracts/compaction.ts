import { z } from 'zod';
import { contract } from '../contract.js';
import { providerId } from '../provider.js';
import { entryId, sessionId } from '../session.js';
import { toolSpec } from '../tools.js';

/**
 * The `context-compaction` worker: keeps a session's next provider request inside the model's
 * window. `plan` measures, `compact_now` (the orchestrator's pre-flight) and `compact_session`
 * (the `/compact` command) compact, `prune_tool_outputs` does only what needs no model call.
 */

/** Focus instructions of `/compact` are sent to the summariser; longer ones are refused. */
export const COMPACTION_MAX_INSTRUCTIONS = 2_000;

/** The request the caller is about to make: the model it goes to, and what it adds to the messages. */
const nextRequest = {
  session_id: sessionId,
  provider: providerId,
  model: z.string().min(1),
  system: z.string().optional(),
  tools: z.array(toolSpec).optional(),
  /** The `max_tokens` the request will ask for (default: the model's max output, capped by config). */
  reserve_output_tokens: z.number().int().positive().optional(),
};

const count = z.number().int().nonnegative();

/** Cheapest first: cap oversized results, prune old results, summarise. */
export const compactionStage = z.enum(['cap', 'prune', 'summary']);
export type CompactionStage = z.infer<typeof compactionStage>;

export const compactionPlan = z.object({
  session_id: sessionId,
  provider: z.string(),
  model: z.string(),
  context_window: count,
  reserve_output_tokens: count,
  safety_margin_tokens: count,
  /** window − output reserve − safety margin: the most the request may carry. */
  usable_tokens: count,
  projected_tokens: count,
  /**
   * `usage`: the input the provider reported for the last call since the latest compaction, plus
   * an estimate of what was appended after it. `estimate`: everything estimated.
   */
  basis: z.enum(['usage', 'estimate']),
  /** The assistant message whose reported usage anchors the projection. */
  anchor_entry_id: entryId.nullable(),
  /** The estimated part of `projected_tokens`. */
  estimated_tokens: count,
  /** How estimates were counted: a tokenizer's encoding name, or `estimate` (calibrated heuristic). */
  tokenizer: z.string(),
  /** Messages the model would be sent. */
  messages: count,
  compaction_entry_id: entryId.nullable(),
  needs_compaction: z.boolean(),
});
export type CompactionPlan = z.output<typeof compactionPlan>;

/**
 * - `compacted`: an entry was appended and the request fits.
 * - `not_needed`: it fits already (perhaps thanks to a compaction that ran meanwhile).
 * - `busy`: another compaction of the session held the lease past the wait.
 * - `did_not_help`: the result would not have been smaller; nothing was appended (a summary that
 *   was paid for is kept and reused by the next compaction). Not retried until the session grows.
 * - `insufficient`: an entry was appended and helped, but the request is still over the window.
 * - `nothing_to_compact`: nothing older than the kept tail, and no output to shorten.
 * - `breaker_open`: 3 failures in a row; only `compact_session` tries again.
 * - `failed`: the summariser failed (see `message`); nothing was appended.
 */
export const compactionStatus = z.enum([
  'compacted',
  'not_needed',
  'busy',
  'did_not_help',
  'insufficient',
  'nothing_to_compact',
  'breaker_open',
  'failed',
]);
export type CompactionStatus = z.infer<typeof compactionStatus>;

export const compactionResult = z.object({
  session_id: sessionId,
  status: compactionStatus,
  /** The stage whose entry was appended (or that was tried last). */
  stage: compactionStage.optional(),
  /** The latest compaction entry on the path after the call. */
  compaction_entry_id: entryId.nullable(),
  tokens_before: count,
  tokens_after: count,
  usable_tokens: count,
  /** Provider calls made for summaries in this call (chunks count one each). */
  summariser_calls: count,
  message: z.string(),
});
export type CompactionResult = z.output<typeof compactionResult>;

const optionalModel = z
  .object({
    session_id: sessionId,
    /** Default: the provider and model of the session's last assistant message. */
    provider: providerId.optional(),
    model: z.string().min(1).optional(),
  })
  .strict()
  .refine((v) => (v.provider === undefined) === (v.model === undefined), {
    message: 'provider and model go together',
    path: ['model'],
  });

export const compactionState = z.object({
  session_id: sessionId,
  lease: z.object({ held: z.boolean(), holder: z.string().optional(), expires_at: z.number().int().optional() }),
  consecutive_failures: count,
  breaker_open: z.boolean(),
  /** Compactions this worker appended to the session. */
  compactions: count,
  latest_compaction_entry_id: entryId.nullable(),
  last_result: z
    .object({
      at: z.number().int(),
      status: compactionStatus,
      stage: compactionStage.optional(),
      tokens_before: count,
      tokens_after: count,
      compaction_entry_id: entryId.nullable(),
    })
    .nullable(),
  last_failure: z.object({ at: z.number().int(), status: compactionStatus, message: z.string() }).nullable(),
  /** A summary paid for but not appended yet; the next compaction starts from it. */
  pending_summary: z.object({ through_entry_id: entryId, at: z.number().int() }).nullable(),
});
export type CompactionState = z.output<typeof compactionState>;

export const compaction = {
  plan: contract({
    id: 'compaction::plan',
    description:
      "Project the tokens of the session's next request against the model's usable window (window − output reserve − margin)",
    input: z.object(nextRequest).strict(),
    output: compactionPlan,
  }),
  compactNow: contract({
    id: 'compaction::compact_now',
    description:
      "The orchestrator's pre-flight: compact the session if its next request would not fit (cap, prune, then summarise)",
    input: z
      .object({
        ...nextRequest,
        /** `overflow`: the provider refused the request as too long; compact even if the estimate says it fits. */
        reason: z.enum(['preflight', 'overflow']).default('preflight'),
      })
      .strict(),
    output: compactionResult,
  }),
  compactSession: contract({
    id: 'compaction::compact_session',
    description:
      'The /compact command: summarise the session now (optionally with focus instructions); resets the circuit breaker',
    input: z
      .object({
        session_id: sessionId,
        instructions: z
          .string()
          .max(COMPACTION_MAX_INSTRUCTIONS, `instructions are at most ${COMPACTION_MAX_INSTRUCTIONS} characters`)
          .optional(),
        provider: providerId.optional(),
        model: z.string().min(1).optional(),
      })
      .strict()
      .refine((v) => (v.provider === undefined) === (v.model === undefined), {
        message: 'provider and model go together',
        path: ['model'],
      }),
    output: compactionResult,
  }),
  pruneToolOutputs: contract({
    id: 'compaction::prune_tool_outputs',
    description: 'Cap oversized function results and prune old ones, without a model call',
    input: optionalModel,
    output: compactionResult,
  }),
  getState: contract({
    id: 'compaction::get_state',
    description: "A session's compaction state: lease, consecutive failures, circuit breaker, last result",
    input: z.object({ session_id: sessionId }).strict(),
    output: compactionState,
  }),
};
