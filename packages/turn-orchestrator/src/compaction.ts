import { HarnessError, isHarnessError } from '@iii-harness/runtime';
import { type CompactionResult, contracts, type Message } from '@iii-harness/types';
import { toolsFor } from './tools.js';
import type { TurnRun } from './turn.js';

/**
 * The context-compaction worker, as the turn uses it before a model call (its README, "How the
 * orchestrator calls it"). Optional: without the worker the turn runs as it always did, and a
 * worker that is slow or goes away holds the call up for a bounded time only.
 */

const { compaction } = contracts;

/** The request the turn is about to make, as the compaction worker measures it. */
function nextRequest(run: TurnRun, maxTokens: number | undefined) {
  const record = run.record;
  return {
    session_id: record.session_id,
    provider: record.provider,
    model: record.model,
    ...(record.system_prompt ? { system: record.system_prompt } : {}),
    tools: toolsFor(record),
    ...(maxTokens ? { reserve_output_tokens: maxTokens } : {}),
  };
}

/**
 * Tokens of a request by the orchestrator's own rough count: UTF-8 bytes of its JSON / 3. Errs
 * high for prose and code (o200k averages 4–4.5 bytes per token there); used only to skip asking
 * the worker while the request is far below the window, and as the budget's declared prompt size.
 */
export function roughTokens(run: TurnRun, messages: readonly Message[]): number {
  const record = run.record;
  const text = JSON.stringify([record.system_prompt ?? '', toolsFor(record), messages]);
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 3);
}

/** Whether the request may be near the window (then the worker is asked), by the rough count. */
function mayNeedCompaction(run: TurnRun, rough: number, maxTokens: number | undefined): boolean {
  const { context_window } = run.record;
  const ratio = run.deps.config.compaction_precheck_ratio;
  if (!context_window || ratio === 0) return true;
  return rough >= ratio * (context_window - (maxTokens ?? 0));
}

export interface Preflight {
  /** The worker appended a compaction entry: the context must be read again. */
  compacted: boolean;
  /** The worker's projection of the request, when it was asked. */
  projected?: number;
}

/**
 * Before a model call: ask `compaction::plan` (when the worker runs, or ran when the turn was
 * provisioned, and the request may be near the window) and compact when the plan says the request
 * would not fit. Safe to repeat: a redelivered step plans again and finds the compaction done.
 */
export async function preflight(
  run: TurnRun,
  context: readonly Message[],
  maxTokens: number | undefined,
): Promise<Preflight> {
  const { bus, caches, config } = run.deps;
  // A turn provisioned with the worker waits for it (restarting) rather than send an unplanned request.
  const expected = run.record.compaction === true;
  if (!expected && !(await caches.registered(compaction.plan.id))) return { compacted: false };
  if (!mayNeedCompaction(run, roughTokens(run, context), maxTokens)) return { compacted: false };
  const request = nextRequest(run, maxTokens);
  const ask = () => bus.call(compaction.plan, request, { timeoutMs: config.compaction_plan_timeout_ms });
  // Only a worker that is not registered (restarting) is waited for; any other failure of the plan
  // (a slow answer, a model without a known window, a dependency of the worker away) lets the call go ahead.
  const whileRestarting = () =>
    ask().catch((error: unknown) => {
      if (isHarnessError(error) && error.reason === 'function_not_found') throw error;
      throw new HarnessError('unavailable', (error as Error).message, { retryable: false });
    });
  const plan = await (expected ? run.patient(compaction.plan.id, whileRestarting) : ask()).catch((error: unknown) => {
    // No window known for the model, the worker restarting, a slow answer: go on unplanned.
    run.logger.warn({ err: (error as Error).message }, 'compaction::plan failed; the model call goes ahead');
    return undefined;
  });
  if (!plan) return { compacted: false };
  if (!plan.needs_compaction) return { compacted: false, projected: plan.projected_tokens };
  await run.emit({
    type: 'compaction_started',
    reason: 'preflight',
    tokens_before: plan.projected_tokens,
    usable_tokens: plan.usable_tokens,
  });
  const result = await compactNow(run, { ...request, reason: 'preflight' });
  return { compacted: appended(result), projected: appended(result) ? result?.tokens_after : plan.projected_tokens };
}

/**
 * The provider said the context is too long: one compaction that compacts even if the estimate
 * says the request fits. True when an entry was appended (the call is then made once more). A
 * turn provisioned while the worker ran asks it even when it looks absent now (restarting after a
 * crash, or not yet seen by this process's cache): `compactNow` waits for it, as the turn fails
 * without it.
 */
export async function compactAfterOverflow(run: TurnRun, maxTokens: number | undefined): Promise<boolean> {
  if (!run.record.compaction && !(await run.deps.caches.registered(compaction.compactNow.id))) return false;
  await run.emit({ type: 'compaction_started', reason: 'overflow', tokens_before: 0 });
  return appended(await compactNow(run, { ...nextRequest(run, maxTokens), reason: 'overflow' }));
}

const appended = (result: CompactionResult | undefined) =>
  result?.status === 'compacted' || result?.status === 'insufficient';

/**
 * `compaction::compact_now`, told as `compaction_done`. A worker that went away is waited for up
 * to `unavailable_wait_ms` (the plan said the request does not fit: without the compaction it
 * would fail); one that does not answer within `compaction_timeout_ms`, or fails, lets the call go
 * ahead. Never loops: the worker does not retry a compaction that did not help.
 */
async function compactNow(
  run: TurnRun,
  request: ReturnType<typeof nextRequest> & { reason: 'preflight' | 'overflow' },
): Promise<CompactionResult | undefined> {
  const { bus, config } = run.deps;
  const result = await run
    .patient(compaction.compactNow.id, () =>
      bus.call(compaction.compactNow, request, { timeoutMs: config.compaction_timeout_ms }).catch((error: unknown) => {
        // Slow is not absent: a compaction that did not finish in time is not asked again.
        if (isHarnessError(error) && error.code === 'timeout' && error.reason !== 'function_not_found')
          return undefined;
        throw error;
      }),
    )
    .catch((error: unknown) => {
      if (error instanceof HarnessError || error instanceof Error)
        run.logger.warn({ err: error.message }, 'compaction failed; the model call goes ahead');
      return undefined;
    });
  await run.emit({
    type: 'compaction_done',
    status: result?.status ?? 'unavailable',
    ...(result?.stage ? { stage: result.stage } : {}),
    compaction_entry_id: result?.compaction_entry_id ?? null,
    tokens_before: result?.tokens_before ?? 0,
    ...(result ? { tokens_after: result.tokens_after } : {}),
  });
  if (result) run.logger.info({ status: result.status, stage: result.stage }, result.message);
  if (appended(result)) run.transcript.invalidate();
  return result;
}
