import {
  assistantMessage,
  errorEnvelope,
  functionExposure,
  jsonObject,
  modelPricing,
  resultContentBlock,
  sessionEntryBody,
  type TurnState,
  traceCarrier,
  turnOutcome,
  turnState,
  usage,
} from '@iii-harness/types';
import { z } from 'zod';

/**
 * Per-call checkpoints: `prepared → (held →) triggered → done`. A call found `triggered` after a
 * crash is never run again: it gets the "interrupted" result.
 */
export const callStatus = z.enum(['prepared', 'held', 'triggered', 'done']);

export const functionResult = z.object({ content: z.array(resultContentBlock), is_error: z.boolean() });
export type FunctionResult = z.infer<typeof functionResult>;

export const batchCall = z.object({
  function_call_id: z.string(),
  /** The tool name the model used. */
  tool: z.string(),
  /** The bus function it resolves to ('' when it resolves to none). */
  function_id: z.string(),
  args: jsonObject,
  status: callStatus,
  /** A person allowed it: run without consulting the policy again. */
  approved: z.boolean().optional(),
  result: functionResult.optional(),
  duration_ms: z.number().nonnegative().optional(),
});
export type BatchCall = z.infer<typeof batchCall>;

/**
 * The function calls of one assistant message. The message itself is kept here and appended
 * together with the results once every call has one, so the transcript never holds a call
 * without its result — whatever crashes or aborts in between.
 */
export const batch = z.object({
  assistant_entry_id: z.string(),
  /** Absent in a batch begun before record version 2, whose message was appended when it arrived. */
  message: assistantMessage.optional(),
  calls: z.array(batchCall),
});
export type Batch = z.infer<typeof batch>;

/** An entry the turn has decided to append (write-ahead: appended after the save that holds it). */
export const outboxEntry = z.object({ entry_id: z.string(), entry: sessionEntryBody });
export type OutboxEntry = z.infer<typeof outboxEntry>;

export const nativeTool = z.object({
  name: z.string(),
  function_id: z.string(),
  description: z.string(),
  parameters: jsonObject,
});
export type NativeTool = z.infer<typeof nativeTool>;

/**
 * The durable turn, as the delivery that holds it writes it (see store.ts for how it is kept).
 * Steps never change it: they return what happened, and the driver saves the next record.
 */
export const turnRecord = z.object({
  session_id: z.string(),
  turn_id: z.string(),
  state: turnState,
  /** Bumped at every transition (names the provider stream of a generation). */
  step: z.number().int().nonnegative(),
  provider: z.string(),
  model: z.string(),
  system_prompt: z.string().optional(),
  /** The most generations this turn may make (`run::start`'s `max_turns`). */
  max_turns: z.number().int().positive(),
  /** Function-id globs this run may call (absent: whatever the policy allows). */
  functions: z.array(z.string()).optional(),
  exposure: functionExposure,
  native_tools: z.array(nativeTool).optional(),
  context_window: z.number().int().positive().optional(),
  max_output_tokens: z.number().int().positive().optional(),
  pricing: modelPricing.optional(),
  /**
   * Who the turn's spend counts against (from `run::start`, else the session's metadata), and
   * whether llm-budget ran when the turn was provisioned: then every model call is reserved and
   * committed, and a budget worker that is away is waited for, never skipped.
   */
  workspace_id: z.string().optional(),
  agent_id: z.string().optional(),
  budget: z.boolean().optional(),
  /** What the budget worker charged for this turn's model calls so far. */
  cost_micro_usd: z.number().int().nonnegative().optional(),
  /**
   * Whether context-compaction ran when the turn was provisioned: then a context the provider
   * refuses as too long waits for a compaction worker that is away (restarting), instead of
   * failing the turn at once.
   */
  compaction: z.boolean().optional(),
  /** The step in which the provider said the context is too long and the turn compacted and retried (once per step). */
  overflow_step: z.number().int().nonnegative().optional(),
  /** Model calls made so far. */
  generations: z.number().int().nonnegative(),
  /** Something new for the model since its last generation (function results, inbox messages): ask again. */
  model_has_news: z.boolean(),
  batch: batch.optional(),
  /**
   * Entries decided by the last save and appended right after it, in order (deterministic ids, so a
   * redelivery that appends them again changes nothing). Cleared by the next save.
   */
  outbox: z.array(outboxEntry).optional(),
  /** Inbox items folded in by the last save, removed from their inbox right after it. */
  inbox_ack: z.object({ name: z.string(), ids: z.array(z.string()) }).optional(),
  /** Held calls to cancel at the approval gate once the terminal save is written (no hold outlives its turn). */
  holds_to_cancel: z.array(z.string()).optional(),
  usage: usage,
  cost_usd: z.number().nonnegative().optional(),
  started_at: z.number().int(),
  updated_at: z.number().int(),
  outcome: turnOutcome.optional(),
  reason: z.string().optional(),
  error: errorEnvelope.optional(),
  /** The agent-event number reserved for `turn_completed` by the terminal save (written exactly once). */
  completion_seq: z.number().int().positive().optional(),
  /** The trace of `run::start`: jobs enqueued outside the turn's own deliveries (recovery) continue it. */
  trace: traceCarrier.optional(),
});
export type TurnRecord = z.infer<typeof turnRecord>;

/** The request id of the provider stream a record in `assistant_streaming` runs (run::abort derives it too). */
export const streamRequestId = (record: Pick<TurnRecord, 'turn_id' | 'step'>) => `${record.turn_id}:${record.step}`;

/** The assistant entry of a generation: deterministic, so a redelivered generation rewrites nothing. */
export const assistantEntryId = (record: Pick<TurnRecord, 'turn_id' | 'step'>) =>
  `${record.turn_id}:${record.step}:assistant`;

/** The result entry of a function call. */
export const resultEntryId = (turnId: string, functionCallId: string) => `${turnId}:${functionCallId}`;

export const WORKING_STATES: readonly TurnState[] = [
  'provisioning',
  'assistant_streaming',
  'function_execute',
  'steering_check',
];
/** States a driver runs through without waiting for anyone. */
export const isWorking = (state: TurnState) => WORKING_STATES.includes(state);
