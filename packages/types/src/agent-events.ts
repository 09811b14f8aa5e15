import { z } from 'zod';
import { compactionStage, compactionStatus } from './contracts/compaction.js';
import { errorEnvelope } from './errors.js';
import { jsonObject, jsonValue } from './json.js';
import { assistantMessage, usage } from './messages.js';
import { turnOutcome, turnState } from './turn.js';

/**
 * Items of stream `agent::events` (group = session id), ordered by `seq` within a session.
 * Clients render from these; nobody polls.
 */
const envelope = {
  session_id: z.string(),
  turn_id: z.string(),
  /** Per-session sequence number; strictly increasing. */
  seq: z.number().int().nonnegative(),
  timestamp: z.number().int(),
};

export const turnStartedEvent = z.object({
  ...envelope,
  type: z.literal('turn_started'),
  provider: z.string(),
  model: z.string(),
});

/** Coalesced deltas of the message being streamed. */
export const messageUpdateEvent = z.object({
  ...envelope,
  type: z.literal('message_update'),
  kind: z.enum(['text', 'thinking', 'tool_call']),
  content_index: z.number().int(),
  delta: z.string(),
  function_call_id: z.string().optional(),
});

export const messageCompleteEvent = z.object({
  ...envelope,
  type: z.literal('message_complete'),
  message: assistantMessage,
});

export const functionExecutionStartEvent = z.object({
  ...envelope,
  type: z.literal('function_execution_start'),
  function_call_id: z.string(),
  function_id: z.string(),
  args: jsonObject,
});

export const functionExecutionEndEvent = z.object({
  ...envelope,
  type: z.literal('function_execution_end'),
  function_call_id: z.string(),
  function_id: z.string(),
  result: jsonValue.optional(),
  is_error: z.boolean(),
  duration_ms: z.number().nonnegative(),
});

export const approvalRequestedEvent = z.object({
  ...envelope,
  type: z.literal('approval_requested'),
  function_call_id: z.string(),
  function_id: z.string(),
  args: jsonObject,
});

export const approvalDecision = z.enum(['allow', 'deny', 'aborted']);
export type ApprovalDecision = z.infer<typeof approvalDecision>;

export const approvalResolvedEvent = z.object({
  ...envelope,
  type: z.literal('approval_resolved'),
  function_call_id: z.string(),
  decision: approvalDecision,
  reason: z.string().optional(),
});

export const turnStateChangedEvent = z.object({
  ...envelope,
  type: z.literal('turn_state_changed'),
  state: turnState,
  previous_state: turnState.optional(),
});

/**
 * A worker the turn needs (its provider, the session store, the gate) is not there right now: the
 * turn waits for it, with backoff, until `gives_up_at`, then fails with the reason.
 */
export const turnWaitingEvent = z.object({
  ...envelope,
  type: z.literal('turn_waiting'),
  function_id: z.string(),
  reason: z.string(),
  gives_up_at: z.number().int(),
});

/**
 * The turn compacts its session before a model call: the request would not fit the model's usable
 * window (`preflight`), or the provider refused it as too long (`overflow`). Always followed by
 * `compaction_done`.
 */
export const compactionStartedEvent = z.object({
  ...envelope,
  type: z.literal('compaction_started'),
  reason: z.enum(['preflight', 'overflow']),
  /** The projected tokens of the request (0 when the provider's refusal started it). */
  tokens_before: z.number().int().nonnegative(),
  usable_tokens: z.number().int().nonnegative().optional(),
});

/**
 * How the compaction went: `compacted` or `insufficient` appended a compaction entry; any other
 * status (the context-compaction worker's, or `unavailable` when it did not answer in time)
 * changed nothing and the model call goes ahead.
 */
export const compactionDoneEvent = z.object({
  ...envelope,
  type: z.literal('compaction_done'),
  status: z.union([compactionStatus, z.literal('unavailable')]).optional(),
  /** Which stage brought the request under the window: cap, prune or summary. */
  stage: compactionStage.optional(),
  /** The latest compaction entry on the session's path (null: none). */
  compaction_entry_id: z.string().nullable(),
  tokens_before: z.number().int().nonnegative(),
  tokens_after: z.number().int().nonnegative().optional(),
});

/** A model call was refused by a budget before any spend: the turn ends (`turn_completed` reason `budget_exceeded`). */
export const budgetExceededEvent = z.object({
  ...envelope,
  type: z.literal('budget_exceeded'),
  /** `workspace:<id>`, `agent:<id>` or `session:<id>`. */
  scope: z.string(),
  /** A sentence the user can read: which budget, what is left, what the call needed. */
  message: z.string(),
  budget_id: z.string().optional(),
  reason: z.enum(['cap_micro_usd', 'cap_tokens', 'unpriced_model']).optional(),
});

/**
 * Something the provider received from its vendor and could not carry (an unknown block, delta,
 * event or output item): its `warning` stream event, forwarded so a client can say that the reply
 * it shows is missing a part. Informational: the turn goes on.
 */
export const providerWarningEvent = z.object({
  ...envelope,
  type: z.literal('provider_warning'),
  provider: z.string().optional(),
  code: z.string(),
  /** The vendor's name for what was not carried (e.g. `container_upload`). */
  feature: z.string(),
  message: z.string(),
});

export const turnCompletedEvent = z.object({
  ...envelope,
  type: z.literal('turn_completed'),
  status: turnOutcome,
  reason: z.string().optional(),
  error: errorEnvelope.optional(),
  usage: usage,
  cost_usd: z.number().nonnegative().optional(),
  /** What the budget worker charged for the turn's model calls (integer micro-dollars), when it runs. */
  cost_micro_usd: z.number().int().nonnegative().optional(),
});

export const agentEvent = z.discriminatedUnion('type', [
  turnStartedEvent,
  messageUpdateEvent,
  messageCompleteEvent,
  functionExecutionStartEvent,
  functionExecutionEndEvent,
  approvalRequestedEvent,
  approvalResolvedEvent,
  turnStateChangedEvent,
  turnWaitingEvent,
  compactionStartedEvent,
  compactionDoneEvent,
  budgetExceededEvent,
  providerWarningEvent,
  turnCompletedEvent,
]);
export type AgentEvent = z.infer<typeof agentEvent>;
export type AgentEventType = AgentEvent['type'];

/**
 * Where each session's agent-event counter lives: a field of the session's turn record (scope
 * `turn_state`, key = session id), so the orchestrator reserves the numbers of the events a
 * transition emits in the same write that saves the transition. Every other emitter (the approval
 * gate) takes its next number from the same field with one atomic increment.
 */
export const AGENT_EVENT_SEQ = { scope: 'turn_state', field: 'event_seq' } as const;

/** Stream names clients subscribe to. */
export const AGENT_EVENTS_STREAM = 'agent::events';
export const SESSION_EVENTS_STREAM = 'session::events';
