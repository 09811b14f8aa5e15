import { type Handler, HarnessError, uuidv7 } from '@iii-harness/runtime';
import {
  type Budget,
  type ContractInput,
  type contracts,
  formatMicroUsd,
  type ReserveResult,
} from '@iii-harness/types';
import type { BudgetDeps } from './context.js';
import { holdKey, type Totals } from './counters.js';
import { maxOutputWithin, type TokenPrices, worstCaseMicroUsd } from './money.js';
import type { Pricing } from './prices.js';
import {
  foldLog,
  type GrantEntry,
  type GrantRecord,
  holdNamespace,
  lastAccepted,
  type RefusalRecord,
  type ReservationView,
  type ReserveRequest,
  sameRequest,
} from './reservation-log.js';
import { releaseGeneration } from './settle.js';
import { scopeKey } from './store.js';
import { counterKey, windowOf } from './usage.js';

/**
 * `budget::reserve`. The caller's claim, the covering budgets and the model's price are fetched
 * at once; the owner of the reservation (the first claim, or a takeover of a crashed one) then
 * places one hold per budget, in budget id order, checking each against the cap with the counter
 * the engine returned. Over a cap: every hold of this attempt is given back, and a smaller output
 * cap is tried when one would fit (at most ATTEMPTS times), else the reservation is refused.
 * The outcome is appended to the reservation's log and stands only if the log accepts it.
 */

const ATTEMPTS = 4;

export const reserve = (deps: BudgetDeps) =>
  (async (input) => runReserve(deps, input)) satisfies Handler<typeof contracts.budget.reserve>;

/** The reserve itself, callable without the bus wrapper (tests drive it from several processes). */
export async function runReserve(
  deps: BudgetDeps,
  input: ContractInput<typeof contracts.budget.reserve>,
): Promise<ReserveResult> {
  const now = deps.now();
  const rid = input.reservation_id ?? uuidv7(now);
  const request: ReserveRequest = {
    scopes: input.scopes,
    provider: input.provider,
    model: input.model,
    input_tokens: input.input_tokens,
    max_output_tokens: input.max_output_tokens,
    min_output_tokens: Math.min(input.min_output_tokens ?? deps.config.min_output_tokens, input.max_output_tokens),
  };
  const [log, budgets, pricing] = await Promise.all([
    deps.store.append(rid, { type: 'claim', at: now, request }),
    deps.store.budgetsCovering(request.scopes),
    deps.prices.get(deps, request.provider, request.model),
    deps.store.noteCreated(rid, minuteOf(now)),
  ]);
  let view = foldLog(log);
  if (!lastAccepted(view)) {
    const answer = await answerNonOwner(deps, rid, request, view);
    if (answer.kind === 'answer') return answer.result;
    view = answer.view;
  }
  return own(deps, rid, view.gen, request, budgets, pricing);
}

/** A claim that did not win: the reservation is decided already, in progress, or stuck. */
async function answerNonOwner(
  deps: BudgetDeps,
  rid: string,
  request: ReserveRequest,
  view: ReservationView,
): Promise<{ kind: 'answer'; result: ReserveResult } | { kind: 'own'; view: ReservationView }> {
  if (view.phase === 'granted' || view.phase === 'refused' || view.phase === 'settled') {
    if (view.claim && !sameRequest(view.claim.request, request))
      throw new HarnessError('conflict', `reservation ${rid} was made for a different call; use a new reservation_id`, {
        reason: 'reservation_id_reused',
      });
    if (view.phase === 'settled')
      throw new HarnessError(
        'conflict',
        `reservation ${rid} is already settled; a new call needs a new reservation_id`,
        {
          reason: 'reservation_settled',
        },
      );
    return { kind: 'answer', result: view.grant ? grantedReply(rid, view.grant) : refusedReply(rid, view.refusal!) };
  }
  const claimAge = view.claim ? deps.now() - view.claim.at : Number.POSITIVE_INFINITY;
  if (view.phase === 'owned' && claimAge <= deps.config.reserve_timeout_ms)
    throw new HarnessError('conflict', `reservation ${rid} is being made by another call; retry shortly`, {
      reason: 'reservation_in_progress',
      retryable: true,
    });
  // The owner looks crashed (or gave up): take over; the sweeper gives its holds back.
  const log = await deps.store.append(rid, { type: 'claim', at: deps.now(), request, takeover_of: view.gen });
  const next = foldLog(log);
  if (lastAccepted(next)) return { kind: 'own', view: next };
  return answerNonOwner(deps, rid, request, next);
}

/** The owner's work: decide, hold, and record the outcome in the log. */
async function own(
  deps: BudgetDeps,
  rid: string,
  gen: number,
  request: ReserveRequest,
  budgets: Budget[],
  pricing: Pricing,
): Promise<ReserveResult> {
  const usdCapped = budgets.filter((b) => b.cap_micro_usd !== undefined);
  if (pricing.kind === 'unavailable' && usdCapped.length > 0) {
    await deps.store.append(rid, { type: 'abandon', at: deps.now(), gen });
    throw new HarnessError('unavailable', 'the model catalog (models::get) cannot be reached to price this call', {
      retryable: true,
    });
  }
  const prices = pricing.kind === 'priced' ? pricing.prices : null;
  const strict = prices ? undefined : usdCapped.find((b) => !b.allow_unpriced);
  if (strict) return decide(deps, rid, gen, { refusal: unpricedRefusal(strict, request, pricing.kind) });
  const now = deps.now();
  const plan = budgets.map((budget) => {
    const window = windowOf(budget, now);
    return { budget, counter_key: counterKey(budget, window), period_label: window.label };
  });
  if (plan.length > 0) await deps.store.setOpen({ rid, gen, at: now, counters: plan.map((p) => p.counter_key) });
  try {
    let outputCap = request.max_output_tokens;
    let refusal: RefusalRecord | undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const ns = holdNamespace(rid, gen, attempt);
      const u = worstCaseMicroUsd(request.input_tokens, outputCap, prices);
      const t = request.input_tokens + outputCap;
      const held = await holdAll(deps, plan, ns, { u, t, at: now });
      if (held.ok) {
        const grant: GrantRecord = {
          ns,
          max_output_tokens: outputCap,
          requested_max_output_tokens: request.max_output_tokens,
          shrunk: outputCap < request.max_output_tokens,
          reserved_micro_usd: u,
          reserved_tokens: t,
          prices,
          expires_at: now + deps.config.reservation_ttl_ms,
          entries: held.entries,
        };
        return await decide(deps, rid, gen, { grant });
      }
      const { budget, totals } = held.over;
      const fits = outputCapThatFits(request.input_tokens, budget, totals, { u, t }, prices);
      refusal = capRefusal(budget, request, totals, { u, t }, prices);
      if (fits === null || fits < request.min_output_tokens || fits >= outputCap) break;
      outputCap = fits;
    }
    return await decide(deps, rid, gen, { refusal: refusal! });
  } catch (error) {
    // Give back what this owner may hold and step aside, so a retry need not wait for the sweeper.
    await Promise.allSettled([
      releaseGeneration(
        deps,
        rid,
        gen,
        plan.map((p) => p.counter_key),
      ),
      deps.store.append(rid, { type: 'abandon', at: deps.now(), gen }),
    ]);
    throw error;
  }
}

interface PlannedHold {
  budget: Budget;
  counter_key: string;
  period_label: string;
}

type HoldOutcome = { ok: true; entries: GrantEntry[] } | { ok: false; over: { budget: Budget; totals: Totals } };

/** One hold per budget in order; the first that goes over a cap undoes every hold of this attempt. */
async function holdAll(
  deps: BudgetDeps,
  plan: PlannedHold[],
  ns: string,
  hold: { u: number; t: number; at: number },
): Promise<HoldOutcome> {
  const entries: GrantEntry[] = [];
  for (const { budget, counter_key, period_label } of plan) {
    const totals = await deps.counters.hold(counter_key, ns, hold);
    const usedUsd = totals.spent_micro_usd + totals.reserved_micro_usd;
    const usedTokens = totals.spent_tokens + totals.reserved_tokens;
    const over =
      (budget.cap_micro_usd !== undefined && usedUsd > budget.cap_micro_usd) ||
      (budget.cap_tokens !== undefined && usedTokens > budget.cap_tokens);
    if (over) {
      const keys = [...entries.map((e) => e.counter_key), counter_key];
      await Promise.all(keys.map((key) => deps.counters.release(key, [holdKey(ns)])));
      return { ok: false, over: { budget, totals } };
    }
    entries.push({
      budget_id: budget.budget_id,
      scope: budget.scope,
      counter_key,
      period_label,
      hold_micro_usd: hold.u,
      hold_tokens: hold.t,
      ...(budget.cap_micro_usd === undefined
        ? {}
        : { cap_micro_usd: budget.cap_micro_usd, remaining_micro_usd: budget.cap_micro_usd - usedUsd }),
      ...(budget.cap_tokens === undefined
        ? {}
        : { cap_tokens: budget.cap_tokens, remaining_tokens: budget.cap_tokens - usedTokens }),
      alert_thresholds_pct: budget.alert_thresholds_pct,
    });
  }
  return { ok: true, entries };
}

/** What the budget could still take, from the counter as it stood with this hold in it. */
function roomLeft(budget: Budget, totals: Totals, hold: { u: number; t: number }) {
  return {
    usd:
      budget.cap_micro_usd === undefined
        ? undefined
        : Math.max(0, budget.cap_micro_usd - (totals.spent_micro_usd + totals.reserved_micro_usd - hold.u)),
    tokens:
      budget.cap_tokens === undefined
        ? undefined
        : Math.max(0, budget.cap_tokens - (totals.spent_tokens + totals.reserved_tokens - hold.t)),
  };
}

/** The largest output cap that would have fitted this budget (null: nothing limits it here). */
function outputCapThatFits(
  inputTokens: number,
  budget: Budget,
  totals: Totals,
  hold: { u: number; t: number },
  prices: TokenPrices | null,
): number | null {
  const room = roomLeft(budget, totals, hold);
  const limits: number[] = [];
  if (room.usd !== undefined) {
    const byUsd = maxOutputWithin(inputTokens, room.usd, prices);
    if (byUsd !== null) limits.push(byUsd);
  }
  if (room.tokens !== undefined) limits.push(room.tokens - inputTokens);
  return limits.length ? Math.min(...limits) : null;
}

const scopeText = (budget: Budget) => `${budget.scope.kind} ${budget.scope.id}`;
const budgetName = (budget: Budget) => (budget.name ? `"${budget.name}"` : budget.budget_id);

function capRefusal(
  budget: Budget,
  request: ReserveRequest,
  totals: Totals,
  hold: { u: number; t: number },
  prices: TokenPrices | null,
): RefusalRecord {
  const room = roomLeft(budget, totals, hold);
  const usdShort = budget.cap_micro_usd !== undefined && room.usd! < hold.u;
  const needed = {
    usd: worstCaseMicroUsd(request.input_tokens, request.min_output_tokens, prices),
    tokens: request.input_tokens + request.min_output_tokens,
  };
  const what = usdShort
    ? `${formatMicroUsd(room.usd!)} left of ${formatMicroUsd(budget.cap_micro_usd!)}; the smallest call allowed needs up to ${formatMicroUsd(needed.usd)}`
    : `${room.tokens} tokens left of ${budget.cap_tokens}; the smallest call allowed needs up to ${needed.tokens}`;
  return {
    budget_id: budget.budget_id,
    scope: scopeKey(budget.scope),
    reason: usdShort ? 'cap_micro_usd' : 'cap_tokens',
    ...(room.usd === undefined ? {} : { remaining_micro_usd: room.usd, needed_micro_usd: needed.usd }),
    ...(room.tokens === undefined ? {} : { remaining_tokens: room.tokens, needed_tokens: needed.tokens }),
    message: `Budget ${budgetName(budget)} (${scopeText(budget)}, ${budget.period}) has ${what}.`,
  };
}

function unpricedRefusal(budget: Budget, request: ReserveRequest, kind: Pricing['kind']): RefusalRecord {
  const why = kind === 'unknown' ? 'is not in the model catalog' : 'has no price in the model catalog';
  return {
    budget_id: budget.budget_id,
    scope: scopeKey(budget.scope),
    reason: 'unpriced_model',
    message: `Model ${request.provider}/${request.model} ${why}, and budget ${budgetName(budget)} (${scopeText(budget)}) caps spend in USD, so it cannot be used.`,
  };
}

/**
 * Record the outcome. It stands only if the log accepts it (this owner was not deposed meanwhile);
 * a deposed owner gives its holds back and tells its caller to retry.
 */
async function decide(
  deps: BudgetDeps,
  rid: string,
  gen: number,
  outcome: { grant: GrantRecord } | { refusal: RefusalRecord },
): Promise<ReserveResult> {
  const at = deps.now();
  const log = await deps.store.append(
    rid,
    'grant' in outcome
      ? { type: 'grant', at, gen, grant: outcome.grant }
      : { type: 'refuse', at, gen, refusal: outcome.refusal },
  );
  const view = foldLog(log);
  const counters = 'grant' in outcome ? outcome.grant.entries.map((e) => e.counter_key) : [];
  if (!lastAccepted(view)) {
    await releaseGeneration(deps, rid, gen, counters);
    throw new HarnessError('conflict', `reservation ${rid} was taken over while it was being made; retry`, {
      reason: 'reservation_in_progress',
      retryable: true,
    });
  }
  if ('refusal' in outcome) {
    await deps.store.deleteOpen(rid, gen);
    return refusedReply(rid, outcome.refusal);
  }
  return grantedReply(rid, outcome.grant);
}

export function grantedReply(rid: string, grant: GrantRecord): ReserveResult {
  return {
    status: 'reserved',
    reservation_id: rid,
    max_output_tokens: grant.max_output_tokens,
    requested_max_output_tokens: grant.requested_max_output_tokens,
    shrunk: grant.shrunk,
    reserved_micro_usd: grant.reserved_micro_usd,
    reserved_tokens: grant.reserved_tokens,
    priced: grant.prices !== null,
    expires_at: grant.expires_at,
    budgets: grant.entries.map((e) => ({
      budget_id: e.budget_id,
      scope: e.scope,
      ...(e.remaining_micro_usd === undefined ? {} : { remaining_micro_usd: e.remaining_micro_usd }),
      ...(e.remaining_tokens === undefined ? {} : { remaining_tokens: e.remaining_tokens }),
    })),
  };
}

export const refusedReply = (rid: string, refusal: RefusalRecord): ReserveResult => ({
  status: 'exceeded',
  reservation_id: rid,
  ...refusal,
});

export const minuteOf = (at: number) => Math.floor(at / 60_000) * 60_000;
