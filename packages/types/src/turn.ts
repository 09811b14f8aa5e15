import { z } from 'zod';
import { errorEnvelope } from './errors.js';
import { jsonObject } from './json.js';
import { usage, userMessage } from './messages.js';

/** The seven states of the durable turn (ARCHITECTURE §6). */
export const turnState = z.enum([
  'provisioning',
  'assistant_streaming',
  'function_execute',
  'function_awaiting_approval',
  'steering_check',
  'stopped',
  'failed',
]);
export type TurnState = z.infer<typeof turnState>;

export const terminalTurnStates: readonly TurnState[] = ['stopped', 'failed'];
export const isTerminalTurnState = (state: TurnState): boolean => terminalTurnStates.includes(state);

/** How a finished turn ended. */
export const turnOutcome = z.enum(['stopped', 'failed', 'aborted']);
export type TurnOutcome = z.infer<typeof turnOutcome>;

export const pendingApproval = z.object({
  function_call_id: z.string(),
  function_id: z.string(),
  args: jsonObject,
  requested_at: z.number().int(),
});
export type PendingApproval = z.infer<typeof pendingApproval>;

/** What `turn::get_state` returns: enough for a client to recover after a reload. */
export const turnView = z.object({
  session_id: z.string(),
  turn_id: z.string(),
  state: turnState,
  provider: z.string(),
  model: z.string(),
  /** Model calls (generations) the turn has made so far. */
  generations: z.number().int().nonnegative(),
  /** The most generations this turn may make (the public name users know). */
  max_turns: z.number().int().positive(),
  started_at: z.number().int(),
  updated_at: z.number().int(),
  pending_approvals: z.array(pendingApproval),
  usage: usage,
  cost_usd: z.number().nonnegative().optional(),
  outcome: turnOutcome.optional(),
  error: errorEnvelope.optional(),
});
export type TurnView = z.infer<typeof turnView>;

/**
 * What a sender puts on a session's `steering` or `followup` inbox for the live turn to fold in
 * at its next steering check: a message (or plain text), appended under `entry_id` when given —
 * so a sender that retries (an idempotent send) never stores its message twice — or a note that
 * the message is already on the path (`appended_entry_id`), which only asks the model again.
 */
export const steeringItem = z.union([
  z.object({ message: userMessage, entry_id: z.string().min(1).max(200).optional() }),
  z.object({ text: z.string(), entry_id: z.string().min(1).max(200).optional() }),
  z.object({ appended_entry_id: z.string().min(1) }),
]);
export type SteeringItem = z.output<typeof steeringItem>;
