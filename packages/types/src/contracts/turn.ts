import { z } from 'zod';
import { contract } from '../contract.js';
import { providerId } from '../provider.js';
import { sessionId } from '../session.js';
import { type TurnState, turnView } from '../turn.js';
import { budgetScope } from './budget.js';

/**
 * The `turn-orchestrator` worker: `run::*` starts and stops a durable turn, `turn::get_state`
 * reads it, and the `turn::<state>` step jobs drive it. Step jobs are only ever enqueued on the
 * FIFO queue `turn-step` (TURN_STEP_QUEUE, one group per session): by the orchestrator itself,
 * and by the approval gate, whose wake-up job is `turn::function_awaiting_approval {wake: true}`.
 */

/** How tools are shown to the model: one `agent_trigger` tool, or one tool per allowed function. */
export const functionExposure = z.enum(['agent_trigger', 'native']);
export type FunctionExposure = z.output<typeof functionExposure>;

export const runStartInput = z
  .object({
    session_id: sessionId,
    provider: providerId,
    model: z.string().min(1),
    system_prompt: z.string().max(200_000).optional(),
    /** Model calls (generations) this turn may make; the public name users know. */
    max_turns: z.number().int().positive().max(1_000).optional(),
    /** Function-id globs this run may call; absent = whatever the policy allows. */
    functions: z.array(z.string().min(1)).max(500).optional(),
    exposure: functionExposure.optional(),
    /**
     * Who the turn's spend counts against (llm-budget checks every budget covering the workspace,
     * the agent and the session). Absent: taken from the session's metadata (`workspace_id`,
     * `agent_id`), set when the session was created.
     */
    workspace_id: budgetScope.shape.id.optional(),
    agent_id: budgetScope.shape.id.optional(),
  })
  .strict();
export type RunStartInput = z.output<typeof runStartInput>;

/**
 * A job on `turn-step`. `step` is the record's step when the job was enqueued (a job for another
 * step is stale and skipped); a wake-up of a parked turn carries `wake: true` instead. Unknown
 * fields are dropped, not refused: a job written by a newer worker still drives an older one.
 */
export const turnStepJob = z.object({
  session_id: sessionId,
  turn_id: z.string().min(1),
  step: z.number().int().nonnegative().optional(),
  wake: z.boolean().optional(),
});
export type TurnStepJob = z.output<typeof turnStepJob>;

export const turnStepResult = z.object({
  /** Whether this delivery drove the turn (false: the job was stale, or another delivery owns the turn). */
  ran: z.boolean(),
  skipped: z.string().optional(),
});

/** The states a step job can be enqueued for (parked and terminal states take none, except the wake-up). */
export type TurnStepState = Exclude<TurnState, 'stopped' | 'failed'>;

const stepJob = (state: TurnStepState, description: string) =>
  contract({
    id: `turn::${state}`,
    description: `Durable turn step (enqueued on turn-step only): ${description}`,
    input: turnStepJob,
    output: turnStepResult,
    metadata: { internal: true },
  });

export const run = {
  start: contract({
    id: 'run::start',
    description: 'Start a durable agent turn on a session (conflict/session_busy while another turn is live)',
    input: runStartInput,
    output: z.object({ turn_id: z.string(), started: z.literal(true) }),
  }),
  abort: contract({
    id: 'run::abort',
    description:
      'Abort the live turn of a session: stops the provider stream, keeps the partial message, resolves held calls as aborted',
    input: z.object({ session_id: sessionId }).strict(),
    output: z.object({ aborted: z.boolean(), turn_id: z.string().optional() }),
  }),
};

export const turn = {
  getState: contract({
    id: 'turn::get_state',
    description:
      "The session's current (or last) turn: state, pending approvals, usage; what a client needs after a reload",
    input: z.object({ session_id: sessionId }).strict(),
    output: turnView,
  }),
  provisioning: stepJob('provisioning', 'learn the model and fix the tools'),
  assistantStreaming: stepJob('assistant_streaming', 'one model call, streamed'),
  functionExecute: stepJob('function_execute', "gate and run the assistant's function calls"),
  functionAwaitingApproval: stepJob(
    'function_awaiting_approval',
    'a parked batch wakes up (the approval gate enqueues {wake: true} when a decision lands)',
  ),
  steeringCheck: stepJob('steering_check', 'fold in inbox messages, then ask the model again or stop'),
  recover: contract({
    id: 'turn::recover',
    description: 'Internal: re-enqueue steps of stalled turns and wake parked ones (cron)',
    // The cron trigger's payload is the engine's; nothing in it is read.
    input: z.looseObject({}),
    output: z.object({ kicked: z.number().int().nonnegative() }),
    metadata: { internal: true },
  }),
};

const STEP_JOBS: Readonly<Record<TurnStepState, (typeof turn)['provisioning']>> = {
  provisioning: turn.provisioning,
  assistant_streaming: turn.assistantStreaming,
  function_execute: turn.functionExecute,
  function_awaiting_approval: turn.functionAwaitingApproval,
  steering_check: turn.steeringCheck,
};

/** The step job contract of a state: what to enqueue on `turn-step` to drive a turn in it. */
export const turnStepContract = (state: TurnStepState) => STEP_JOBS[state];
