import type { AgentEvents, Bus, Logger } from '@iii-harness/runtime';
import type { ApprovalDecision, ApprovalDecisionRecord, ApprovalHold } from '@iii-harness/types';
import type { ApprovalStore } from './store.js';
import { wakeTurn } from './wake.js';

export interface Deps {
  store: ApprovalStore;
  events: AgentEvents;
}

export interface Resolution {
  hold: ApprovalHold;
  record: ApprovalDecisionRecord;
}

/**
 * Decide a hold: the decision is written before the hold is removed, so a crash in between
 * leaves a decided hold (re-resolvable, and honoured by the orchestrator) rather than a lost one.
 * Once the hold is taken the decision stands, so what follows — the event for UIs, the wake-up
 * of the turn — is logged when it fails, and neither keeps the other from running.
 * Returns undefined when another resolver took the hold first.
 */
export async function resolveHold(
  { store, events }: Deps,
  { bus, logger }: { bus: Bus; logger: Logger },
  hold: ApprovalHold,
  decision: ApprovalDecision,
  reason?: string,
): Promise<Resolution | undefined> {
  const record: ApprovalDecisionRecord = { decision, ...(reason ? { reason } : {}), decided_at: Date.now() };
  await store.putDecision(hold.session_id, hold.function_call_id, record);
  const taken = await store.takeHold(hold.session_id, hold.function_call_id);
  if (!taken) return undefined;
  await events
    .emit(hold.session_id, hold.turn_id, {
      type: 'approval_resolved',
      function_call_id: hold.function_call_id,
      decision,
      ...(reason ? { reason } : {}),
    })
    .catch((error: unknown) =>
      logger.error(
        { err: error, session_id: hold.session_id, function_call_id: hold.function_call_id },
        'approval decided, but the approval_resolved event could not be written',
      ),
    );
  await wakeTurn(bus, logger, hold.session_id, hold.turn_id);
  return { hold, record };
}
