import { HarnessError } from '@iii-harness/runtime';
import { CONTEXT_OVERFLOW_REASON, type FunctionCallBlock, type ReserveResult } from '@iii-harness/types';
import { refusalOf } from '../budget.js';
import { compactAfterOverflow } from '../compaction.js';
import type { Generation } from '../generation.js';
import { modelCall } from '../generation-hooks.js';
import { assistantEntryId, type BatchCall, type TurnRecord } from '../record.js';
import { errorResult } from '../results.js';
import { resolveCall } from '../tools.js';
import { assistantEntry, noticeEntry, resultEntries } from '../transcript.js';
import type { StepResult, TurnRun } from '../turn.js';
import { withUsage } from '../usage.js';
import { decideCalls } from './batch.js';

/**
 * One generation. A message without function calls is appended by the transition's save (under
 * `<turn_id>:<step>:assistant`); a message with calls becomes the batch — each call decided by the
 * gate right away — and is appended together with their results once each call has one.
 */
export async function assistantStreaming(run: TurnRun): Promise<StepResult> {
  const record = run.record;
  const entryId = assistantEntryId(record);
  let call = await modelCall(run, { preflight: true });
  if (call.status === 'refused') return budgetExceeded(run, call.refusal);
  let generation = call.generation;
  let spent: Pick<TurnRecord, 'usage' | 'cost_usd' | 'cost_micro_usd'> = spend(
    run.record,
    generation,
    call.cost_micro_usd,
  );
  // The provider said the context is too long: compact once and call once more (once per step,
  // also across deliveries: the record says it was tried).
  if (generation.failure?.reason === CONTEXT_OVERFLOW_REASON && run.record.overflow_step !== record.step) {
    await run.checkpoint({ ...spent, overflow_step: record.step });
    if (await compactAfterOverflow(run, record.max_output_tokens)) {
      call = await modelCall(run, { preflight: false, attempt: ':overflow' });
      if (call.status === 'refused') return budgetExceeded(run, call.refusal);
      generation = call.generation;
      spent = spend(run.record, generation, call.cost_micro_usd);
    }
  }
  const { message, failure } = generation;
  await run.emit({ type: 'message_complete', message });
  const changes: Partial<TurnRecord> = {
    generations: record.generations + 1,
    model_has_news: false,
    ...spent,
  };
  const calls = message.content.filter((block): block is FunctionCallBlock => block.type === 'function_call');
  // Said and done: whatever of the message arrived is kept, and each call in it gets a result.
  const keep = (why: string) =>
    message.content.length === 0
      ? []
      : [
          assistantEntry(entryId, message),
          ...resultEntries(
            record.turn_id,
            calls.map((call) => ({ ...prepare(record, call), status: 'done' as const, result: errorResult(why) })),
          ),
        ];

  if (message.stop_reason === 'aborted' || (await run.abortRequested()))
    return {
      outcome: 'aborted',
      reason: 'aborted by request',
      changes: { ...changes, outbox: keep('aborted: the turn was stopped before this call ran') },
    };
  if (failure || message.stop_reason === 'error') {
    const text = failure?.message ?? message.error_message ?? 'the provider failed';
    return {
      outcome: 'provider_failed',
      reason: text,
      error: new HarnessError('provider_error', text, {
        retryable: failure?.retryable ?? false,
        ...(failure?.reason ? { reason: failure.reason } : {}),
      }).toEnvelope(),
      changes: { ...changes, outbox: keep('aborted: the model call failed before this call ran') },
    };
  }
  if (calls.length === 0)
    return {
      outcome: 'answered',
      changes: { ...changes, outbox: message.content.length ? [assistantEntry(entryId, message)] : [] },
    };
  // The gate decides now, so the save that enters function_execute also marks the calls
  // (`triggered` / `held`): the at-most-once checkpoint costs no write of its own.
  const batch = { assistant_entry_id: entryId, message, calls: calls.map((call) => prepare(record, call)) };
  const decided = await decideCalls(run, batch.calls);
  if (!decided) return { outcome: 'aborted', reason: 'aborted by request', changes: { ...changes, batch } };
  return { outcome: 'called_functions', changes: { ...changes, batch: { ...batch, calls: decided } } };
}

/** The turn's usage and cost with one more model call's. */
function spend(
  record: Readonly<TurnRecord>,
  generation: Generation,
  costMicroUsd: number,
): Pick<TurnRecord, 'usage' | 'cost_usd' | 'cost_micro_usd'> {
  const priced = withUsage(record, generation.message.usage);
  if (!record.budget) return priced;
  // With llm-budget the turn's cost is what the budget worker charged (integer micro-dollars).
  const cost_micro_usd = (record.cost_micro_usd ?? 0) + costMicroUsd;
  return { usage: priced.usage, cost_micro_usd, cost_usd: cost_micro_usd / 1_000_000 };
}

/** A budget refused the model call: the turn ends before any spend, saying why, in the transcript too. */
async function budgetExceeded(
  run: TurnRun,
  refusal: Extract<ReserveResult, { status: 'exceeded' }>,
): Promise<StepResult> {
  const { event, error } = refusalOf(refusal);
  await run.emit(event);
  const { turn_id, step } = run.record;
  return {
    outcome: 'budget_exceeded',
    reason: 'budget_exceeded',
    error,
    changes: { outbox: [noticeEntry(`${turn_id}:${step}:budget_exceeded`, `The turn stopped: ${refusal.message}`)] },
  };
}

/** A model's function call as a batch entry: resolved to a bus function, or already answered with the reason it cannot be. */
function prepare(record: Readonly<TurnRecord>, block: FunctionCallBlock): BatchCall {
  const resolved = resolveCall(record, block);
  const base = { function_call_id: block.id, tool: block.name };
  if ('error' in resolved)
    return {
      ...base,
      function_id: '',
      args: block.arguments,
      status: 'done',
      result: errorResult(`error invalid_call: ${resolved.error}`),
      duration_ms: 0,
    };
  return { ...base, function_id: resolved.function_id, args: resolved.payload, status: 'prepared' };
}
