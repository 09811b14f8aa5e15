import { contracts } from '@iii-harness/types';
import { answered, beforeCall, denied, executeCall } from '../execute-call.js';
import { decide } from '../gate.js';
import type { Batch, BatchCall } from '../record.js';
import { denialResult, errorResult, INTERRUPTED } from '../results.js';
import { isDiscovery } from '../tools.js';
import { assistantEntry, resultEntries } from '../transcript.js';
import type { StepResult, TurnRun } from '../turn.js';

/**
 * The calls of the batch as an earlier delivery left them: a call found `triggered` was in flight
 * when that delivery died and is never run again ("interrupted"); a held call takes the decision
 * the approval gate has for it — allowed, it is prepared again (and runs without asking the
 * policy), denied or cancelled, it gets that result; undecided, it stays held (its hold is
 * created if it never was).
 */
export async function settleLeftovers(run: TurnRun, batch: Batch): Promise<BatchCall[]> {
  const calls: BatchCall[] = [];
  for (const call of batch.calls) {
    if (call.status === 'triggered') calls.push(await answered(run, call, errorResult(INTERRUPTED), 0));
    else if (call.status === 'held') calls.push(await applyDecision(run, call));
    else calls.push(call);
  }
  return calls;
}

async function applyDecision(run: TurnRun, call: BatchCall): Promise<BatchCall> {
  const { bus, config } = run.deps;
  const reply = await run.patient(contracts.approval.getDecision.id, () =>
    bus.call(
      contracts.approval.getDecision,
      { session_id: run.sessionId, function_call_id: call.function_call_id },
      { timeoutMs: config.policy_timeout_ms },
    ),
  );
  const decision = reply.decision;
  if (!decision) {
    if (!reply.pending && !(await createHold(run, call)))
      return denied(run, call, gateUnavailable('the approval gate could not be reached'));
    return call;
  }
  if (decision.decision === 'allow') return { ...call, status: 'prepared', approved: true };
  if (decision.decision === 'deny')
    return answered(run, call, denialResult('user', decision.reason ?? 'a person denied this call'), 0);
  return answered(run, call, errorResult(`aborted: ${decision.reason ?? 'the call was cancelled'}`), 0);
}

const gateUnavailable = (what: string) => ({
  kind: 'deny' as const,
  denied_by: 'gate_unavailable' as const,
  reason: `${what}; the call is denied (fail closed)`,
});

/** Park a call at the approval gate (idempotent per call); false when the gate cannot be reached. */
async function createHold(run: TurnRun, call: BatchCall): Promise<boolean> {
  const { bus, config } = run.deps;
  try {
    await bus.call(
      contracts.approval.hold,
      {
        session_id: run.sessionId,
        turn_id: run.record.turn_id,
        function_call_id: call.function_call_id,
        function_id: call.function_id,
        args: call.args,
      },
      { timeoutMs: config.policy_timeout_ms },
    );
    return true;
  } catch (error) {
    run.logger.warn(
      { err: (error as Error).message, function_call_id: call.function_call_id },
      'could not hold a call',
    );
    return false;
  }
}

/**
 * Every prepared call of the batch, in order: the gate decides (allowed, denied with a result the
 * model can read, or held for a person), the before hook may block or rewrite an allowed one; then
 * ONE save marks the held calls `held` and the allowed ones `triggered` — the at-most-once
 * checkpoint — before any hold is created or any call leaves. Held calls park together and do not
 * block their siblings. The results (and the assistant message) are appended when none is held.
 */
export async function runBatch(run: TurnRun, batch: Batch, settled: BatchCall[]): Promise<StepResult> {
  const { config } = run.deps;
  const calls = [...settled];
  const toRun: number[] = [];
  const toHold: number[] = [];
  for (const [index, call] of calls.entries()) {
    if (call.status !== 'prepared') continue;
    if (await run.abortRequested()) return aborted(batch, calls);
    const decision =
      isDiscovery(call.function_id) || call.approved
        ? ({ kind: 'allow' } as const)
        : await decide(run.record, call.function_id, call.args, config.policy_timeout_ms, run.gate);
    if (decision.kind === 'deny') calls[index] = await denied(run, call, decision);
    else if (decision.kind === 'hold') {
      calls[index] = { ...call, status: 'held' };
      toHold.push(index);
    } else {
      const hooked = await beforeCall(run, call);
      if ('kind' in hooked) calls[index] = await denied(run, call, hooked);
      else {
        calls[index] = { ...call, args: hooked.args, status: 'triggered' };
        toRun.push(index);
      }
    }
  }
  if (toRun.length || toHold.length)
    await run.checkpoint({ batch: { ...batch, calls } }, toHold.length ? 0 : 2 * toRun.length + 2);
  for (const index of toRun) run.triggeredHere.add(calls[index]!.function_call_id);

  for (const index of toHold)
    if (!(await createHold(run, calls[index]!)))
      calls[index] = await denied(run, calls[index]!, gateUnavailable('the approval gate could not be reached'));
  // The gate wrote approval_requested events after our reservation: later numbers keep the order.
  if (toHold.length) run.events.release();

  for (const index of toRun) {
    if (await run.abortRequested()) return aborted(batch, calls);
    calls[index] = await executeCall(run, calls[index]!);
  }
  if (calls.some((call) => call.status === 'held')) return { outcome: 'held', changes: { batch: { ...batch, calls } } };
  return {
    outcome: 'batch_done',
    changes: {
      batch: undefined,
      model_has_news: true,
      outbox: [
        ...(batch.message ? [assistantEntry(batch.assistant_entry_id, batch.message)] : []),
        ...resultEntries(run.record.turn_id, calls),
      ],
    },
  };
}

/** Stop mid-batch: the ending closes the batch (every call gets a result; holds are cancelled). */
const aborted = (batch: Batch, calls: BatchCall[]): StepResult => ({
  outcome: 'aborted',
  reason: 'aborted by request',
  changes: { batch: { ...batch, calls } },
});
