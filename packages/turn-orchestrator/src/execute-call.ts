import { traceFunctionCall } from '@iii-harness/runtime';
import { HOOK_AFTER_FUNCTION_CALL, HOOK_BEFORE_FUNCTION_CALL, type JsonObject } from '@iii-harness/types';
import { discover } from './discovery.js';
import type { GateDecision } from './gate.js';
import { publishHook } from './hooks.js';
import type { BatchCall, FunctionResult } from './record.js';
import { denialResult, failureResult, toResult } from './results.js';
import { isDiscovery } from './tools.js';
import type { TurnRun } from './turn.js';

const isObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const hookPayload = (run: TurnRun, call: BatchCall) => ({
  session_id: run.sessionId,
  turn_id: run.record.turn_id,
  function_call_id: call.function_call_id,
  function_id: call.function_id,
});

/**
 * The `agent::before_function_call` hook: a subscriber may block the call or rewrite its
 * arguments. A hook that cannot be run denies the call (fail closed). Without subscribers nothing
 * is published.
 */
export async function beforeCall(
  run: TurnRun,
  call: BatchCall,
): Promise<{ args: JsonObject } | Extract<GateDecision, { kind: 'deny' }>> {
  const { bus, caches, config } = run.deps;
  try {
    const before = await publishHook(
      bus,
      caches,
      HOOK_BEFORE_FUNCTION_CALL,
      { ...hookPayload(run, call), args: call.args },
      'first_block_wins',
      config.hook_timeout_ms,
    );
    const verdict = isObject(before.merged) ? before.merged : {};
    if (verdict.block === true || verdict.decision === 'block' || verdict.decision === 'deny')
      return {
        kind: 'deny',
        denied_by: 'hook',
        reason: typeof verdict.reason === 'string' ? verdict.reason : 'blocked by a before_function_call hook',
      };
    return { args: isObject(verdict.args) ? verdict.args : call.args };
  } catch {
    return {
      kind: 'deny',
      denied_by: 'gate_unavailable',
      reason: 'the before_function_call hook could not be run; the call is denied (fail closed)',
    };
  }
}

/**
 * Run one call whose `triggered` checkpoint is saved (it runs at most once): the function, then
 * the `agent::after_function_call` hook, which may rewrite the result. Returns the call, done.
 */
export async function executeCall(run: TurnRun, call: BatchCall): Promise<BatchCall> {
  const { bus, caches, config } = run.deps;
  run.started.add(call.function_call_id);
  await run.emit({
    type: 'function_execution_start',
    function_call_id: call.function_call_id,
    function_id: call.function_id,
    args: call.args,
  });
  const started = Date.now();
  let result: FunctionResult = await traceFunctionCall(call, async () => {
    try {
      const value = isDiscovery(call.function_id)
        ? await discover(bus, run.record, call.function_id, call.args, run.gate.isDenied)
        : await bus.invoke(call.function_id, call.args, { timeoutMs: config.function_timeout_ms });
      return toResult(value, config.max_result_chars);
    } catch (error) {
      return failureResult(error);
    }
  });
  try {
    const after = await publishHook(
      bus,
      caches,
      HOOK_AFTER_FUNCTION_CALL,
      { ...hookPayload(run, call), args: call.args, result },
      'pipeline_last_wins',
      config.hook_timeout_ms,
    );
    const rewritten = isObject(after.merged) ? after.merged.result : undefined;
    if (typeof rewritten === 'string') result = toResult(rewritten, config.max_result_chars);
    else if (isObject(rewritten) && Array.isArray(rewritten.content))
      result = { content: rewritten.content, is_error: rewritten.is_error === true } as FunctionResult;
  } catch (error) {
    run.logger.warn({ err: (error as Error).message }, 'after_function_call hook failed; keeping the original result');
  }
  return answered(run, call, result, Date.now() - started);
}

/** A call with its result (not saved: the next save of the batch carries it). */
export async function answered(
  run: TurnRun,
  call: BatchCall,
  result: FunctionResult,
  durationMs: number,
): Promise<BatchCall> {
  await run.emit({
    type: 'function_execution_end',
    function_call_id: call.function_call_id,
    function_id: call.function_id || call.tool,
    result: result.content.map((c) => (c.type === 'text' ? c.text : `[${c.mime_type}]`)).join('\n'),
    is_error: result.is_error,
    duration_ms: durationMs,
  });
  return { ...call, status: 'done', result, duration_ms: durationMs };
}

/** A call denied before it ran: its result says by whom and why. */
export const denied = (run: TurnRun, call: BatchCall, decision: Extract<GateDecision, { kind: 'deny' }>) =>
  answered(run, call, denialResult(decision.denied_by, decision.reason), 0);
