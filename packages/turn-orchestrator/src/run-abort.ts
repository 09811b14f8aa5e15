import type { Handler } from '@iii-harness/runtime';
import { contracts, isTerminalTurnState, TURN_STEP_QUEUE } from '@iii-harness/types';
import { streamRequestId } from './record.js';
import type { Deps } from './turn.js';

/**
 * Stop a live turn: flag it (the delivery driving it ends it at its next check), cut the provider
 * stream so the vendor stops, and wake a parked turn so its held calls are resolved as aborted.
 */
export const runAbort = (deps: Deps) =>
  (async ({ session_id }, { bus, logger }) => {
    const record = await deps.store.get(session_id);
    if (!record || isTerminalTurnState(record.state)) return { aborted: false };
    await deps.store.requestAbort(session_id, record.turn_id);
    if (record.state === 'assistant_streaming') {
      await bus
        .call(contracts.provider.abort(record.provider), { request_id: streamRequestId(record) }, { timeoutMs: 2_000 })
        .catch((error: unknown) => {
          logger.warn({ err: (error as Error).message }, 'could not abort the provider stream');
        });
    }
    if (record.state === 'function_awaiting_approval')
      await bus.enqueue(TURN_STEP_QUEUE.queue, contracts.turn.functionAwaitingApproval, {
        session_id,
        turn_id: record.turn_id,
        wake: true,
      });
    return { aborted: true, turn_id: record.turn_id };
  }) satisfies Handler<typeof contracts.run.abort>;
