import { type Handler, HarnessError, isHarnessError, withTrace } from '@iii-harness/runtime';
import { type contracts, isTerminalTurnState, type TurnStepJob, type TurnStepState } from '@iii-harness/types';
import type { TurnRecord } from './record.js';
import { traceStep } from './step-span.js';
import { assistantStreaming } from './steps/assistant-streaming.js';
import { finishAborted } from './steps/finish-aborted.js';
import { functionAwaitingApproval, functionExecute } from './steps/function-execute.js';
import { provisioning } from './steps/provisioning.js';
import { steeringCheck } from './steps/steering-check.js';
import { Fenced } from './store.js';
import { IllegalTransition } from './transitions.js';
import { type Deps, type StepResult, TurnRun } from './turn.js';

/** The step of each state: reads the turn, does the work, reports what happened. */
const STEPS: Readonly<Record<TurnStepState, (run: TurnRun) => Promise<StepResult>>> = {
  provisioning,
  assistant_streaming: assistantStreaming,
  function_execute: functionExecute,
  function_awaiting_approval: functionAwaitingApproval,
  steering_check: steeringCheck,
};

type StepReply = { ran: boolean; skipped?: string };

/**
 * The handler of every `turn::<state>` job. A job names a turn; one delivery drives it through as
 * many consecutive states as it can — each transition journaled by one save — until the turn parks
 * (waits for a person), ends, or the delivery's time budget is spent or the worker starts draining
 * (then a fresh job takes over: on another copy, or on this worker once it is back).
 * Jobs arrive at least once and may be duplicated: a delivery first takes the turn (store.ts: the
 * next epoch), so whichever delivery came before it is fenced off, and resumes from the record.
 * Having fenced it, the delivery carries the session's live turn on itself, even when its job
 * named an older turn or found the turn parked: the delivery it fenced may have been driving it
 * (a wake-up's, or the next turn's), and nobody else would until the recovery sweep.
 * A job for a turn that is over only makes sure its `turn_completed` was written.
 */
export const driveTurn = (deps: Deps) =>
  (async (job) => {
    const claimed = await deps.store.claim(job.session_id);
    const record = claimed.record;
    if (!record) return { ran: false, skipped: 'stale: the session has no turn' };
    const run = new TurnRun(deps, { ...claimed, record });
    if (isTerminalTurnState(record.state)) {
      if (record.turn_id !== job.turn_id) return { ran: false, skipped: 'stale: another turn' };
      await run.repairEnding();
      await run.events.drain();
      return { ran: false, skipped: `stale: turn is ${record.state}` };
    }
    // Another turn's steps belong to that turn's trace, not to the trace of the job that found it.
    const reply =
      record.turn_id === job.turn_id
        ? await drive(run, deps, job)
        : await withTrace(record.trace, () => drive(run, deps, job));
    await run.events.drain();
    return reply;
  }) satisfies Handler<typeof contracts.turn.provisioning>;

async function drive(run: TurnRun, deps: Deps, job: TurnStepJob): Promise<StepReply> {
  try {
    // What the last save decided and a crash may have left undone.
    await run.carryOut();
    const began = Date.now();
    for (;;) {
      // Draining (SIGTERM): stop at a transition and let another copy — or this worker restarted — go on.
      if (deps.shutdown?.aborted || Date.now() - began >= deps.config.driver_budget_ms) {
        await run.handOver();
        return { ran: true };
      }
      const state = run.record.state as TurnStepState;
      const next = await traceStep(run, state, async () => {
        const result = (await run.abortRequested()) ? await finishAborted() : await STEPS[state](run);
        return run.move(result);
      });
      if (isTerminalTurnState(next) || next === 'function_awaiting_approval') return { ran: true };
    }
  } catch (error) {
    if (error instanceof Fenced) return fenced(run, job);
    try {
      await failTurn(run, error);
    } catch (failure) {
      if (failure instanceof Fenced) return fenced(run, job);
      throw failure;
    }
    return { ran: true };
  }
}

function fenced(run: TurnRun, job: TurnStepJob): StepReply {
  run.logger.info({ job }, 'a later delivery took the turn over; this one stops');
  return { ran: false, skipped: 'fenced: a later delivery owns the turn' };
}

/**
 * An unexpected error ends the turn as failed, with the reason; an illegal transition is a bug and
 * says so. A step cut short because an abort was asked (it stopped waiting for a worker) ends aborted.
 */
async function failTurn(run: TurnRun, error: unknown): Promise<void> {
  if (!(error instanceof IllegalTransition) && (await run.abortRequested().catch(() => false))) {
    await run.move({ outcome: 'aborted', reason: 'aborted by request' });
    return;
  }
  if (error instanceof IllegalTransition) run.logger.error({ err: error }, 'BUG: illegal turn transition');
  else run.logger.error({ err: error }, 'turn step failed; the turn ends as failed');
  const envelope = isHarnessError(error)
    ? error.toEnvelope()
    : new HarnessError('internal', 'the turn step failed unexpectedly').toEnvelope();
  const changes: Partial<TurnRecord> = {};
  // A save that fails here (the engine is gone) leaves the job to the queue's retry.
  await run.move({ outcome: 'failed', reason: envelope.message, error: envelope, changes });
}
