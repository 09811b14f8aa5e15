import { defineFunction, HarnessError, isHarnessError } from '@iii-harness/runtime';
import { isTerminalTurnState, type TurnState } from '@iii-harness/types';
import { z } from 'zod';
import { type Deps, Turn } from './turn.js';

export const stepJob = z.object({
  session_id: z.string().min(1),
  turn_id: z.string().min(1),
  step: z.number().int().nonnegative().optional(),
  wake: z.boolean().optional(),
});

const stepResult = z.object({ ran: z.boolean(), skipped: z.string().optional() });

export type StepHandler = (turn: Turn) => Promise<void>;

/**
 * Failures worth the queue's retry and backoff: the bus or a worker is briefly unavailable — or
 * not registered yet, as when every process restarts at once and this step runs before the
 * session or approval worker is back.
 */
export function isTransient(error: unknown): boolean {
  if (!isHarnessError(error)) return false;
  if (error.reason === 'function_not_found') return true;
  return (error.code === 'unavailable' || error.code === 'timeout') && error.reason !== 'gate_unavailable';
}

/**
 * The queue-facing handler of one state. Steps arrive at least once: a job whose turn or step
 * no longer matches the record is acknowledged and skipped (stale-step guard). A pending abort
 * ends the turn at the next step boundary. An unexpected error fails the turn (and acks the job);
 * a transient one is rethrown so the queue retries the step.
 */
export function stepFunction(state: TurnState, run: StepHandler, onAbort: StepHandler, deps: Deps) {
  return defineFunction({
    id: `turn::${state}`,
    description: `Durable turn step: ${state.replace(/_/g, ' ')} (enqueued on turn-step only)`,
    metadata: { internal: true },
    input: stepJob,
    output: stepResult,
    async handler(job) {
      const record = await deps.store.get(job.session_id);
      if (!record || record.turn_id !== job.turn_id) return { ran: false, skipped: 'stale: another turn' };
      if (record.state !== state || isTerminalTurnState(record.state))
        return { ran: false, skipped: `stale: turn is ${record.state}` };
      if (!job.wake && job.step !== record.step)
        return { ran: false, skipped: `stale: step ${job.step} ≠ ${record.step}` };
      const turn = new Turn(
        { ...deps, logger: deps.logger.child({ session_id: record.session_id, turn_id: record.turn_id, state }) },
        record,
      );
      try {
        await ((await turn.abortRequested()) ? onAbort(turn) : run(turn));
        return { ran: true };
      } catch (error) {
        if (isTransient(error)) throw error;
        const envelope = isHarnessError(error)
          ? error.toEnvelope()
          : new HarnessError('internal', 'the turn step failed unexpectedly').toEnvelope();
        turn.logger.error({ err: error, state }, 'turn step failed; the turn ends as failed');
        await turn.finish('failed', envelope.message, envelope);
        return { ran: true };
      }
    },
  });
}
