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
 * enqueueing, a job dead-lettered after its retries), and wake every parked turn (a decision may
 * have landed while nobody listened). A duplicate job is harmless: its delivery takes the turn
 * over (or finds it parked or over) and resumes from the record. At start-up every live turn is
 * kicked; afterwards only those untouched for `stalled_after_ms`.
 */
export async function recoverTurns(deps: Deps, onlyStalled: boolean): Promise<number> {
  const cutoff = Date.now() - deps.config.stalled_after_ms;
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
 * The recovery cron. Every copy of the orchestrator registers it (one per engine), so each
 * scheduled run fires once per copy: the first copy to claim the run does the sweep, the others
 * skip it (runtime's `claimScheduledRun`, through engine state).
 */
export const recover = (deps: Deps) =>
  (async (event) => {
    if (!(await claimScheduledRun(deps.bus, contracts.turn.recover.id, event))) return { kicked: 0 };
    return { kicked: await recoverTurns(deps, true) };
  }) satisfies Handler<typeof contracts.turn.recover>;
