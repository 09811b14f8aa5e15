import { z } from 'zod';
import { approvalDecision } from '../agent-events.js';
import { contract } from '../contract.js';
import { jsonObject } from '../json.js';
import { sessionId } from '../session.js';

/**
 * The `approval-gate` worker: human decisions on held agent function calls. The orchestrator
 * uses `hold`, `get_decision`, `get_settings` and `cancel`; people (console, CLI, bots) the rest.
 */

/**
 * How a session's calls are gated when the policy does not allow them outright: `manual` holds
 * them for a person, `auto` allows what the policy does not deny, `full` allows everything but
 * the kernel deny list.
 */
export const approvalMode = z.enum(['manual', 'auto', 'full']);
export type ApprovalMode = z.output<typeof approvalMode>;

/** Call ids become state keys `<session>/<call>`, so they may not hold a `/` (session ids cannot). */
export const functionCallId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^/]+$/, 'must not contain "/"');
const functionId = z.string().min(1).max(300);
const reason = z.string().max(2_000);

/** A call parked until a person decides. */
export const approvalHold = z.object({
  session_id: sessionId,
  turn_id: z.string().min(1),
  function_call_id: functionCallId,
  function_id: functionId,
  args: jsonObject,
  requested_at: z.number().int(),
});
export type ApprovalHold = z.output<typeof approvalHold>;

export const approvalDecisionRecord = z.object({
  decision: approvalDecision,
  reason: z.string().optional(),
  decided_at: z.number().int(),
});
export type ApprovalDecisionRecord = z.output<typeof approvalDecisionRecord>;

export const approvalSettings = z.object({
  session_id: sessionId,
  mode: approvalMode,
  /** Functions allowed without asking for the rest of the session. */
  always_allow: z.array(z.string()),
  updated_at: z.number().int(),
});
export type ApprovalSettings = z.output<typeof approvalSettings>;

const callRef = { session_id: sessionId, function_call_id: functionCallId };

export const approval = {
  hold: contract({
    id: 'approval::hold',
    description: 'Park a function call until a person decides (idempotent per call; used by the turn orchestrator)',
    input: approvalHold.omit({ requested_at: true }).strict(),
    output: z.object({ hold: approvalHold, created: z.boolean() }),
  }),
  getDecision: contract({
    id: 'approval::get_decision',
    description: 'The decision on a call, if one was made (used by the orchestrator when it wakes)',
    input: z.object(callRef).strict(),
    output: z.object({ decision: approvalDecisionRecord.optional(), pending: z.boolean() }),
  }),
  cancel: contract({
    id: 'approval::cancel',
    description: 'Resolve a held call as aborted (used by the orchestrator when a turn is aborted)',
    input: z.object({ ...callRef, reason: reason.optional() }).strict(),
    output: z.object({ cancelled: z.boolean() }),
  }),
  resolve: contract({
    id: 'approval::resolve',
    description: 'Decide a held function call: allow or deny (always: allow this function for the rest of the session)',
    input: z
      .object({
        ...callRef,
        decision: z.enum(['allow', 'deny']),
        reason: reason.optional(),
        always: z.boolean().optional(),
      })
      .strict(),
    output: z.object({ decision: approvalDecision, already_resolved: z.boolean() }),
  }),
  listPending: contract({
    id: 'approval::list_pending',
    description: 'Calls waiting for a human decision, oldest first (one session, or all)',
    input: z.object({ session_id: sessionId.optional() }).strict(),
    output: z.object({ pending: z.array(approvalHold) }),
  }),
  getSettings: contract({
    id: 'approval::get_settings',
    description: "A session's approval mode and always-allow list",
    input: z.object({ session_id: sessionId }).strict(),
    output: approvalSettings,
  }),
  setMode: contract({
    id: 'approval::set_mode',
    description:
      "Set a session's approval mode: manual (hold what the policy does not allow), auto (allow unless denied), full (allow all but the kernel list)",
    input: z.object({ session_id: sessionId, mode: approvalMode }).strict(),
    output: approvalSettings,
  }),
  addAlwaysAllow: contract({
    id: 'approval::add_always_allow',
    description: 'Allow a function without asking for the rest of the session',
    input: z.object({ session_id: sessionId, function_id: functionId }).strict(),
    output: approvalSettings,
  }),
  removeAlwaysAllow: contract({
    id: 'approval::remove_always_allow',
    description: "Take a function off the session's always-allow list",
    input: z.object({ session_id: sessionId, function_id: functionId }).strict(),
    output: approvalSettings,
  }),
  clearSettings: contract({
    id: 'approval::clear_settings',
    description: "Forget a session's approval settings (back to the default mode)",
    input: z.object({ session_id: sessionId }).strict(),
    output: z.object({ cleared: z.boolean() }),
  }),
  sweep: contract({
    id: 'approval::sweep',
    description:
      'Internal: deny holds older than pending_timeout_ms (run by a cron trigger; one copy of the worker runs each scheduled run)',
    // The cron trigger's payload is the engine's; only its scheduled_time is read.
    input: z.looseObject({}),
    output: z.object({
      expired: z.number().int().nonnegative(),
      /** Another copy of the worker took this scheduled run. */
      skipped: z.boolean().optional(),
    }),
    metadata: { internal: true },
  }),
};
