import { captureTrace, type Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { Deps } from './resolution.js';

/**
 * Park a call. The hold is stored first; the `approval_requested` event that tells UIs is best
 * effort on top (logged when it fails): `approval::list_pending` shows the hold either way, and
 * failing here would make the orchestrator deny a call a person could still approve.
 */
export const holdCall = ({ store, events }: Deps) =>
  (async (input, { logger }) => {
    const trace = captureTrace();
    const { hold, created } = await store.putHold({ ...input, requested_at: Date.now(), ...(trace ? { trace } : {}) });
    if (created)
      await events
        .emit(input.session_id, input.turn_id, {
          type: 'approval_requested',
          function_call_id: input.function_call_id,
          function_id: input.function_id,
          args: input.args,
        })
        .catch((error: unknown) =>
          logger.error(
            { err: error, function_call_id: input.function_call_id },
            'call held, but the approval_requested event could not be written',
          ),
        );
    return { hold, created };
  }) satisfies Handler<typeof contracts.approval.hold>;

export const getDecision = ({ store }: Deps) =>
  (async ({ session_id, function_call_id }) => {
    const [record, pending] = await Promise.all([
      store.getDecision(session_id, function_call_id),
      store.getHold(session_id, function_call_id),
    ]);
    return { ...(record ? { decision: record } : {}), pending: pending !== undefined && record === undefined };
  }) satisfies Handler<typeof contracts.approval.getDecision>;

export const listPending = ({ store }: Deps) =>
  (async ({ session_id }) => ({ pending: await store.listHolds(session_id) })) satisfies Handler<
    typeof contracts.approval.listPending
  >;
