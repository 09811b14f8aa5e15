import { HOOK_AFTER_FUNCTION_CALL, HOOK_BEFORE_FUNCTION_CALL, type JsonObject } from '@iii-harness/types';
import { discover } from './discovery.js';
import { publishHook } from './hooks.js';
import type { BatchCall, FunctionResult } from './record.js';
import { denialResult, failureResult, toResult } from './results.js';
import { DISCOVERY_FUNCTIONS } from './tools.js';
import type { Turn } from './turn.js';

const isObject = (value: unknown): value is JsonObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Run one allowed call, at most once: the `agent::before_function_call` hook may block it or
 * rewrite its arguments; the record is checkpointed `triggered` before the call leaves, so a
 * crash after that point yields an "interrupted" result instead of a second run; the
 * `agent::after_function_call` hook may rewrite the result; then `done` is checkpointed.
 */
export async function executeCall(turn: Turn, call: BatchCall): Promise<void> {
  const { bus, config } = turn.deps;
  const base = {
    session_id: turn.sessionId,
    turn_id: turn.record.turn_id,
    function_call_id: call.function_call_id,
    function_id: call.function_id,
  };
  let args = call.args;
  try {
    const before = await publishHook(
      bus,
      turn.cache,
      HOOK_BEFORE_FUNCTION_CALL,
      { ...base, args },
      'first_block_wins',
      config.hook_timeout_ms,
    );
    const verdict = isObject(before.merged) ? before.merged : {};
    if (verdict.block === true || verdict.decision === 'block' || verdict.decision === 'deny') {
      return finish(
        turn,
        call,
        denialResult(
          'hook',
          typeof verdict.reason === 'string' ? verdict.reason : 'blocked by a before_function_call hook',
        ),
        0,
      );
    }
    if (isObject(verdict.args)) args = verdict.args;
  } catch {
    return finish(
      turn,
      call,
      denialResult(
        'gate_unavailable',
        'the before_function_call hook could not be run; the call is denied (fail closed)',
      ),
      0,
    );
  }

  call.args = args;
  call.status = 'triggered';
  await turn.checkpoint();
  await turn.emit({
    type: 'function_execution_start',
    function_call_id: call.function_call_id,
    function_id: call.function_id,
    args,
  });
  const started = Date.now();
  let result: FunctionResult;
  try {
    const value = (DISCOVERY_FUNCTIONS as readonly string[]).includes(call.function_id)
      ? await discover(bus, turn.record, call.function_id, args, turn.cache.isDenied)
      : await bus.call(call.function_id, args, { timeoutMs: config.function_timeout_ms });
    result = toResult(value, config.max_result_chars);
  } catch (error) {
    result = failureResult(error);
  }
  try {
    const after = await publishHook(
      bus,
      turn.cache,
      HOOK_AFTER_FUNCTION_CALL,
      { ...base, args, result },
      'pipeline_last_wins',
      config.hook_timeout_ms,
    );
    const rewritten = isObject(after.merged) ? after.merged.result : undefined;
    if (typeof rewritten === 'string') result = toResult(rewritten, config.max_result_chars);
    else if (isObject(rewritten) && Array.isArray(rewritten.content))
      result = { content: rewritten.content, is_error: rewritten.is_error === true } as typeof result;
  } catch (error) {
    turn.logger.warn({ err: (error as Error).message }, 'after_function_call hook failed; keeping the original result');
  }
  await finish(turn, call, result, Date.now() - started);
}

/** Record a call's result and checkpoint it. */
export async function finish(
  turn: Turn,
  call: BatchCall,
  result: NonNullable<BatchCall['result']>,
  durationMs: number,
): Promise<void> {
  call.status = 'done';
  call.result = result;
  call.duration_ms = durationMs;
  await turn.checkpoint();
  await turn.emit({
    type: 'function_execution_end',
    function_call_id: call.function_call_id,
    function_id: call.function_id || call.tool,
    result: result.content.map((c) => (c.type === 'text' ? c.text : `[${c.mime_type}]`)).join('\n'),
    is_error: result.is_error,
    duration_ms: durationMs,
  });
}
