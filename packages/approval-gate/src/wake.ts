import type { Bus, Logger } from '@iii-harness/runtime';
import { TURN_STEP_QUEUE } from '@iii-harness/types';

/**
 * Tell the turn orchestrator a decision landed: a job on its FIFO step queue, so the wake-up is
 * durable even while the orchestrator is down (the job waits for it).
 */
export async function wakeTurn(bus: Bus, logger: Logger, sessionId: string, turnId: string): Promise<void> {
  try {
    await bus.enqueue(TURN_STEP_QUEUE.queue, 'turn::function_awaiting_approval', {
      session_id: sessionId,
      turn_id: turnId,
      wake: true,
    });
  } catch (error) {
    // The decision is stored; the orchestrator also re-checks parked turns when it starts.
    logger.warn({ err: (error as Error).message, session_id: sessionId }, 'could not wake the turn');
  }
}
