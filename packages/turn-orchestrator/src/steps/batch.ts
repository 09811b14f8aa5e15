import { matchesAnyGlob } from '@iii-harness/runtime';
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
 * created if it never was). Marks this delivery made itself are left as they are.
 */
export async function settleLeftovers(run: TurnRun, batch: Batch): Promise<BatchCall[]> {
  const calls: BatchCall[] = [];
  for (const call of batch.calls) {
    const id = call.function_call_id;
    if (call.status === 'triggered' && !run.triggeredHere.has(id))
      calls.push(await answered(run, call, errorResult(INTERRUPTED), 0));
    else if (call.status === 'held' && !run.heldHere.has(id)) calls.push(await applyDecision(run, call));
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
 * The gate's decision on every prepared call, in order: allowed (the before hook may still block it
 * or rewrite its arguments) → `triggered`; needing a person → `held`; denied → done, with a result
 * the model can read. Nothing is saved or run here: the save that follows carries the marks — the
 * at-most-once checkpoint — before any hold is created or any call leaves. Returns the calls, or
 * undefined when an abort was asked meanwhile.
 */
export async function decideCalls(run: TurnRun, calls: readonly BatchCall[]): Promise<BatchCall[] | undefined> {
  const { config } = run.deps;
  const out = [...calls];
  // The calls the policy will be asked about, asked in one round trip.
  run.gate.prefetch(
    out.filter(
      (call) =>
        call.status === 'prepared' &&
        !isDiscovery(call.function_id) &&
        !call.approved &&
        matchesAnyGlob(run.record.functions, call.function_id),
    ),
  );
  for (const [index, call] of out.entries()) {
    if (call.status !== 'prepared') continue;
    if (await run.abortRequested()) return undefined;
    const decision =
      isDiscovery(call.function_id) || call.approved
        ? ({ kind: 'allow' } as const)
        : await decide(run.record, call.function_id, call.args, config.policy_timeout_ms, run.gate);
    if (decision.kind === 'deny') out[index] = await denied(run, call, decision);
    else if (decision.kind === 'hold') out[index] = { ...call, status: 'held' };
    else {
      const hooked = await beforeCall(run, call);
      out[index] =
        'kind' in hooked ? await denied(run, call, hooked) : { ...call, args: hooked.args, status: 'triggered' };
    }
  }
  return out;
}

/**
 * function_execute (and the wake-up of a parked batch): calls left by an earlier delivery are
 * settled, prepared ones decided (one save marks them), this delivery's holds created, its
 * triggered calls run in order. Held calls park together and do not block their siblings; once
 * none is held, the assistant message and every result are appended together, in order.
 */
export async function runBatch(run: TurnRun, batch: Batch): Promise<StepResult> {
  const settled = await settleLeftovers(run, batch);
  const decided = await decideCalls(run, settled);
  if (!decided) return aborted(batch, settled);
  const calls = decided;
  const newlyMarked = calls.some((call, i) => call.status !== settled[i]!.status && call.status !== 'done');
  if (newlyMarked) {
    const runs = calls.filter((c) => c.status === 'triggered' && !run.triggeredHere.has(c.function_call_id)).length;
    await run.checkpoint({ batch: { ...batch, calls } }, 2 * runs + 1);
  }

  let held = false;
  for (const [index, call] of calls.entries()) {
    if (call.status !== 'held' || !run.heldHere.has(call.function_call_id)) continue;
    run.heldHere.delete(call.function_call_id);
    held = true;
    if (!(await createHold(run, call)))
      calls[index] = await denied(run, call, gateUnavailable('the approval gate could not be reached'));
  }
  // The gate wrote approval_requested events after our reservation: later numbers keep the order.
  if (held) run.events.release();

  for (const [index, call] of calls.entries()) {
    if (call.status !== 'triggered' || run.started.has(call.function_call_id)) continue;
    if (await run.abortRequested()) return aborted(batch, calls);
    calls[index] = await executeCall(run, call);
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
