import type { Bus, Logger } from '@iii-harness/runtime';
import { contracts, TURN_STEP_QUEUE } from '@iii-harness/types';

/**
 * Tell the turn orchestrator a decision landed: a job on its FIFO step queue, so the wake-up is
 * durable even while the orchestrator is down (the job waits for it). A failure is logged with
 * its reason and not thrown: the decision is stored, and the orchestrator re-checks parked turns
 * when it starts.
 */
export async function wakeTurn(bus: Bus, logger: Logger, sessionId: string, turnId: string): Promise<void> {
  try {
    await bus.enqueue(TURN_STEP_QUEUE.queue, contracts.turn.functionAwaitingApproval, {
      session_id: sessionId,
      turn_id: turnId,
      wake: true,
    });
  } catch (error) {
    logger.error(
      { err: error, session_id: sessionId, turn_id: turnId },
      'approval decided, but the parked turn could not be woken (it is picked up when the orchestrator starts)',
    );
  }
}
