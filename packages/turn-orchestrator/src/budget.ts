import { HarnessError, isHarnessError } from '@iii-harness/runtime';
import {
  type CallScopes,
  type ContractInput,
  commitUsageOf,
  contracts,
  type ReserveResult,
  type SettleResult,
  type Usage,
} from '@iii-harness/types';
import type { Generation } from './generation.js';
import type { TurnRecord } from './record.js';
import type { TurnRun } from './turn.js';

/**
 * The llm-budget worker, as the turn uses it around each model call (its README, "For the
 * orchestrator"): reserve the call's worst case before it, use the output cap the reservation
 * grants, commit what the provider reported after it (release when it failed before any output).
 *
 * A turn provisioned while llm-budget ran (`record.budget`) never skips the check: a budget
 * worker that is away is waited for like any worker the turn needs, and the turn fails if it does
 * not come back. A turn provisioned without it runs as it always did.
 *
 * Reservation ids are `<turn_id>:<step>:<epoch>` — one per delivery of a generation. A delivery
 * that dies after reserving leaves its reservation open; the next one reserves anew, and the dead
 * one's reservation is settled at its full amount when it expires (the call may have happened: it
 * is paid for, never forgotten). Nothing the worker holds survives forever, and no spend is lost.
 */

const { budget } = contracts;

export interface Reservation {
  id: string;
  /** The output cap granted (smaller than asked for when the budget only had room for that). */
  max_tokens: number;
}

export type Reserved =
  | { status: 'unbudgeted' }
  | { status: 'reserved'; reservation: Reservation }
  | { status: 'exceeded'; refusal: Extract<ReserveResult, { status: 'exceeded' }> };

/** Who a call counts against: the turn's workspace and agent (when known) and its session. */
export function scopesOf(record: Pick<TurnRecord, 'workspace_id' | 'agent_id' | 'session_id'>): CallScopes {
  return {
    ...(record.workspace_id ? { workspace_id: record.workspace_id } : {}),
    ...(record.agent_id ? { agent_id: record.agent_id } : {}),
    session_id: record.session_id,
  };
}

/** Attempts at a fresh reservation id when one turns out settled already (its first answer was lost). */
const FRESH_IDS = 3;

/** Reserve the next model call's worst case: `inputTokens` of prompt (an upper bound) and the turn's output cap. */
export async function reserveCall(run: TurnRun, inputTokens: number, attempt = ''): Promise<Reserved> {
  const record = run.record;
  if (!record.budget || !record.max_output_tokens) return { status: 'unbudgeted' };
  const base = `${record.turn_id}:${record.step}:${run.epoch}${attempt}`;
  for (let n = 0; ; n++) {
    const reservation_id = n === 0 ? base : `${base}:${n}`;
    const request = {
      scopes: scopesOf(record),
      provider: record.provider,
      model: record.model,
      input_tokens: inputTokens,
      max_output_tokens: record.max_output_tokens,
      reservation_id,
    };
    try {
      const answer = await run.patient(budget.reserve.id, () => reserveOnce(run, request));
      if (answer.status === 'exceeded') return { status: 'exceeded', refusal: answer };
      return { status: 'reserved', reservation: { id: answer.reservation_id, max_tokens: answer.max_output_tokens } };
    } catch (error) {
      if (isHarnessError(error) && error.reason === 'reservation_settled' && n < FRESH_IDS) continue;
      throw error;
    }
  }
}

/** One reserve, repeated while another call is still making the same reservation (a retry racing its original). */
async function reserveOnce(run: TurnRun, request: ContractInput<typeof budget.reserve>): Promise<ReserveResult> {
  for (let delay = 50; ; delay = Math.min(delay * 2, 1_000)) {
    try {
      return await run.deps.bus.call(budget.reserve, request, { timeoutMs: run.deps.config.call_timeout_ms });
    } catch (error) {
      if (!(isHarnessError(error) && error.reason === 'reservation_in_progress')) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

const tokensOf = (usage: Usage) =>
  usage.input_tokens + usage.output_tokens + (usage.cache_read_tokens ?? 0) + (usage.cache_write_tokens ?? 0);

/**
 * Settle the call's reservation; returns what it cost (micro-dollars). With the provider's usage it
 * is charged at that; a call that produced something but reported no usage, or whose outcome is
 * unknown (`undefined`: the stream broke off), is charged its full reservation; one that failed
 * before any output is released. A settlement that cannot be made is left to the reservation's
 * expiry, which charges it in full: the turn goes on either way.
 */
export async function settleCall(
  run: TurnRun,
  reservation: Reservation | undefined,
  generation: Generation | undefined,
): Promise<number> {
  if (!reservation) return 0;
  const message = generation?.message;
  const reported = message && tokensOf(message.usage) > 0;
  const nothing = message !== undefined && !reported && message.content.length === 0;
  const settle = (): Promise<SettleResult> =>
    nothing
      ? run.deps.bus.call(budget.release, { reservation_id: reservation.id })
      : run.deps.bus.call(budget.commit, {
          reservation_id: reservation.id,
          ...(reported ? { usage: commitUsageOf(message.usage) } : {}),
        });
  try {
    const settled = await run.patient(nothing ? budget.release.id : budget.commit.id, settle);
    return settled.cost_micro_usd;
  } catch (error) {
    run.logger.warn(
      { err: (error as Error).message, reservation_id: reservation.id },
      'could not settle the reservation; it is charged in full when it expires',
    );
    return 0;
  }
}

/** The sentence and fields of a refused call, for the `budget_exceeded` event and the turn's ending. */
export function refusalOf(refusal: Extract<ReserveResult, { status: 'exceeded' }>) {
  return {
    event: {
      type: 'budget_exceeded' as const,
      scope: refusal.scope,
      message: refusal.message,
      budget_id: refusal.budget_id,
      reason: refusal.reason,
    },
    error: new HarnessError('budget_exceeded', refusal.message, {
      reason: refusal.reason,
      retryable: false,
    }).toEnvelope(),
  };
}
