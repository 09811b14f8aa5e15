import { type AgentEvents, type Bus, type Logger, resumeTrace } from '@iii-harness/runtime';
import type { ApprovalDecision, ApprovalDecisionRecord } from '@iii-harness/types';
import type { ApprovalStore, StoredHold } from './store.js';
import { wakeTurn } from './wake.js';

export interface Deps {
  store: ApprovalStore;
  events: AgentEvents;
}

export interface Resolution {
  /** The decision: the first vote, this one or another resolver's. */
  record: ApprovalDecisionRecord;
  /** This call's vote is the decision. */
  mine: boolean;
}

/**
 * Vote for a decision on a hold, then act on the decision — the first vote, whoever cast it. The
 * vote is written before the hold is removed, so a crash in between leaves a decided hold
 * (re-resolvable, and honoured by the orchestrator) rather than a lost one; whoever takes the hold
 * afterwards emits the event for UIs and wakes the turn, both logged when they fail. Concurrent
 * resolvers (a person, the sweep, a cancel, on any copy of this worker) therefore agree on one
 * decision, stored, emitted and woken with.
 */
export async function resolveHold(
  { store, events }: Deps,
  { bus, logger }: { bus: Bus; logger: Logger },
  hold: StoredHold,
  decision: ApprovalDecision,
  reason?: string,
): Promise<Resolution> {
  const vote: ApprovalDecisionRecord = { decision, ...(reason ? { reason } : {}), decided_at: Date.now() };
  const decided = await store.vote(hold.session_id, hold.function_call_id, vote);
  const taken = await store.takeHold(hold.session_id, hold.function_call_id);
  if (taken)
    // In the turn's own trace: the wait shows as a span from the hold to this decision, and the
    // turn's wake-up (and all that follows) continues the trace the hold was made in.
    await resumeTrace(taken.trace ?? hold.trace, approvalSpan(taken, decided.decision), async () => {
      await events
        .emit(hold.session_id, hold.turn_id, {
          type: 'approval_resolved',
          function_call_id: hold.function_call_id,
          decision: decided.decision.decision,
          ...(decided.decision.reason ? { reason: decided.decision.reason } : {}),
        })
        .catch((error: unknown) =>
          logger.error(
            { err: error, session_id: hold.session_id, function_call_id: hold.function_call_id },
            'approval decided, but the approval_resolved event could not be written',
          ),
        );
      await wakeTurn(bus, logger, hold.session_id, hold.turn_id);
    });
  return { record: decided.decision, mine: decided.mine };
}

/** `approval <function>`: from the moment the call was held to the decision, with the decision. */
const approvalSpan = (hold: StoredHold, decision: ApprovalDecisionRecord) => ({
  name: `approval ${hold.function_id}`,
  startTime: hold.requested_at,
  attributes: {
    'iii.approval.function_id': hold.function_id,
    'gen_ai.tool.call.id': hold.function_call_id,
    'iii.approval.decision': decision.decision,
    'iii.approval.wait_ms': Math.max(0, decision.decided_at - hold.requested_at),
  },
});
