import { z } from 'zod';
import { errorEnvelope } from './errors.js';
import { jsonObject } from './json.js';
import { usage } from './messages.js';

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
  turn_count: z.number().int().nonnegative(),
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
