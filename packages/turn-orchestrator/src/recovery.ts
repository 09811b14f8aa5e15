import { claimScheduledRun, type Handler, withTrace } from '@iii-harness/runtime';
import {
  contracts,
  isTerminalTurnState,
  TURN_STEP_QUEUE,
  type TurnStepState,
  turnStepContract,
} from '@iii-harness/types';
import { isWorking } from './record.js';
import type { Deps } from './turn.js';

/**
 * Re-enqueue a job for every live turn that may have lost its own (a crash between saving and
 * enqueueing), and wake every parked turn (a decision may have landed while nobody listened).
 * A duplicate job is harmless: its delivery takes the turn over (or finds it parked or over) and
 * resumes from the record. At start-up every live turn is kicked; afterwards only those untouched
 * for `stalled_after_ms`. Dead-lettered steps are put back first, whatever their age.
 */
export async function recoverTurns(deps: Deps, onlyStalled: boolean): Promise<number> {
  const cutoff = Date.now() - deps.config.stalled_after_ms;
  await redriveDeadSteps(deps);
  let kicked = 0;
  for (const { record } of await deps.store.list()) {
    if (isTerminalTurnState(record.state)) continue;
    if (onlyStalled && record.updated_at > cutoff) continue;
    const { session_id, turn_id, step, state } = record;
    await withTrace(record.trace, () =>
      deps.bus.enqueue(
        TURN_STEP_QUEUE.queue,
        turnStepContract(state as TurnStepState),
        isWorking(state) ? { session_id, turn_id, step } : { session_id, turn_id, wake: true },
      ),
    );
    kicked++;
  }
  if (kicked) deps.logger.info({ kicked, only_stalled: onlyStalled }, 'recovered live turns');
  return kicked;
}

/**
 * The engine counts a delivery whose worker died (`invocation_stopped`) as a failed attempt, as
 * the real iii queue does, so a step interrupted by `max_retries` orchestrator crashes in a row is
 * dead-lettered although nothing is wrong with it. Steps are idempotent (a delivery claims the
 * turn and resumes from the record), so every dead-lettered one is simply delivered again.
 */
async function redriveDeadSteps(deps: Deps): Promise<void> {
  try {
    const { redriven } = await deps.bus.call(contracts.engine.queueRedrive, { queue: TURN_STEP_QUEUE.queue });
    if (redriven) deps.logger.info({ redriven }, 'dead-lettered turn steps delivered again');
  } catch (error) {
    // The live turns are still kicked below; the dead letters wait for the next sweep.
    deps.logger.warn({ err: (error as Error).message }, 'redriving dead-lettered turn steps failed');
  }
}

/**
 * The recovery cron. Every copy of the orchestrator registers it (one per engine), so each
 * scheduled run fires once per copy: the first copy to claim the run does the sweep, the others
 * skip it (runtime's `claimScheduledRun`, through engine state).
 */
export const recover = (deps: Deps) =>
  (async (event) => {
    if (!(await claimScheduledRun(deps.bus, contracts.turn.recover.id, event))) return { kicked: 0 };
    return { kicked: await recoverTurns(deps, true) };
  }) satisfies Handler<typeof contracts.turn.recover>;
