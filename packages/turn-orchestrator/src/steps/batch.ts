import { executeCall, finish } from '../execute-call.js';
import { decide } from '../gate.js';
import type { BatchCall } from '../record.js';
import { denialResult, errorResult, INTERRUPTED } from '../results.js';
import { DISCOVERY_FUNCTIONS } from '../tools.js';
import { appendResults } from '../transcript.js';
import type { Turn } from '../turn.js';

/** Calls found `triggered` were in flight when a process died: they are never run again. */
export async function settleInterrupted(turn: Turn, calls: BatchCall[]): Promise<void> {
  for (const call of calls.filter((c) => c.status === 'triggered'))
    await finish(turn, call, errorResult(INTERRUPTED), 0);
}

/** Gate one prepared call: run it, deny it with a result the model can read, or park it. */
export async function gateAndRun(turn: Turn, call: BatchCall): Promise<void> {
  const { bus, config } = turn.deps;
  const record = turn.record;
  const discovery = (DISCOVERY_FUNCTIONS as readonly string[]).includes(call.function_id);
  const decision =
    discovery || call.approved
      ? { kind: 'allow' as const }
      : await decide(bus, record, call.function_id, call.args, config.policy_timeout_ms, turn.cache);
  if (decision.kind === 'deny') return finish(turn, call, denialResult(decision.denied_by, decision.reason), 0);
  if (decision.kind === 'allow') return executeCall(turn, call);
  try {
    await bus.call(
      'approval::hold',
      {
        session_id: record.session_id,
        turn_id: record.turn_id,
        function_call_id: call.function_call_id,
        function_id: call.function_id,
        args: call.args,
      },
      { timeoutMs: config.policy_timeout_ms },
    );
  } catch {
    return finish(
      turn,
      call,
      denialResult('gate_unavailable', 'the approval gate could not be reached; the call is denied (fail closed)'),
      0,
    );
  }
  call.status = 'held';
  await turn.checkpoint();
}

/**
 * After a pass over the batch: park while any call is held; otherwise append every result in
 * the assistant's order (each under a deterministic id) and move on to steering_check.
 */
export async function settleBatch(turn: Turn): Promise<void> {
  const record = turn.record;
  const batch = record.batch!;
  if (batch.calls.some((c) => c.status === 'held')) {
    if (record.state === 'function_awaiting_approval') return turn.checkpoint();
    return turn.moveTo('function_awaiting_approval');
  }
  await appendResults(turn.deps.bus, record.session_id, record.turn_id, batch.calls);
  record.batch = undefined;
  record.continue_pending = true;
  await turn.moveTo('steering_check');
}
