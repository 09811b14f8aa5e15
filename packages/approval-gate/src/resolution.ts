import type { AgentEvents, Bus, Logger } from '@iii-harness/runtime';
import type { ApprovalDecision } from '@iii-harness/types';
import type { ApprovalStore, DecisionRecord, Hold } from './store.js';
import { wakeTurn } from './wake.js';

export interface Resolution {
  hold: Hold;
  record: DecisionRecord;
}

/**
 * Decide a hold: the decision is written before the hold is removed, so a crash in between
 * leaves a decided hold (re-resolvable, and honoured by the orchestrator) rather than a lost one.
 * Returns undefined when another resolver took the hold first.
 */
export async function resolveHold(
  deps: { store: ApprovalStore; bus: Bus; events: AgentEvents; logger: Logger },
  hold: Hold,
  decision: ApprovalDecision,
  reason?: string,
): Promise<Resolution | undefined> {
  const record: DecisionRecord = { decision, ...(reason ? { reason } : {}), decided_at: Date.now() };
  await deps.store.putDecision(hold.session_id, hold.function_call_id, record);
  const taken = await deps.store.takeHold(hold.session_id, hold.function_call_id);
  if (!taken) return undefined;
  await deps.events.emit(hold.session_id, hold.turn_id, {
    type: 'approval_resolved',
    function_call_id: hold.function_call_id,
    decision,
    ...(reason ? { reason } : {}),
  });
  await wakeTurn(deps.bus, deps.logger, hold.session_id, hold.turn_id);
  return { hold, record };
}
