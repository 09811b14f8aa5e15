import { approvalDecision } from '@iii-harness/types';
import { z } from 'zod';
import { finish } from '../execute-call.js';
import { denialResult, errorResult } from '../results.js';
import type { Turn } from '../turn.js';
import { gateAndRun, settleBatch, settleInterrupted } from './batch.js';

const decisionReply = z.object({
  decision: z.object({ decision: approvalDecision, reason: z.string().optional() }).optional(),
});

/**
 * A parked batch woke up (a decision landed, or recovery): apply each decision that exists, in
 * any order; stay parked while some call still waits; finish the batch when none does.
 */
export async function functionAwaitingApproval(turn: Turn): Promise<void> {
  const { bus } = turn.deps;
  const record = turn.record;
  const calls = record.batch?.calls ?? [];
  await settleInterrupted(turn, calls);
  for (const call of calls.filter((c) => c.status === 'held')) {
    const { decision } = await bus.call(
      'approval::get_decision',
      { session_id: record.session_id, function_call_id: call.function_call_id },
      { schema: decisionReply },
    );
    if (!decision) continue;
    if (decision.decision === 'allow') {
      call.approved = true;
      call.status = 'prepared';
      await gateAndRun(turn, call);
    } else if (decision.decision === 'deny')
      await finish(turn, call, denialResult('user', decision.reason ?? 'a person denied this call'), 0);
    else await finish(turn, call, errorResult(`aborted: ${decision.reason ?? 'the call was cancelled'}`), 0);
  }
  await settleBatch(turn);
}
