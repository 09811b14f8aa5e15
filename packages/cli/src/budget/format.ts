import type { BudgetScope, BudgetUsage } from '@iii-harness/types';

/**
 * Budgets for people: amounts typed as dollars become integer micro-dollars (never a float on the
 * way), and a budget's usage becomes "spent · left of cap, period". Pure, so the chat, `status`
 * and `budget` say it the same way.
 */

const MICRO = 1_000_000;

/** `"5"`, `"$2.50"`, `"0.000001"` → micro-dollars; undefined when it is not an amount with ≤ 6 decimals. */
export function parseUsd(text: string): number | undefined {
  const match = /^\$?(\d{1,12})(?:\.(\d{0,6}))?$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * MICRO + Number((match[2] ?? '').padEnd(6, '0'));
}

/** Micro-dollars as dollars: cents when that is exact, else as many decimals as it takes (≤ 6). */
export function usd(micro: number): string {
  const dollars = Math.floor(micro / MICRO);
  const fraction = String(micro % MICRO).padStart(6, '0');
  const trimmed = fraction.replace(/0+$/, '');
  return `$${dollars.toLocaleString('en-US')}.${trimmed.length <= 2 ? fraction.slice(0, 2) : trimmed}`;
}

export function tokens(n: number): string {
  if (n >= 1_000_000) return `${Number((n / 1_000_000).toFixed(1))}M`;
  if (n >= 10_000) return `${Number((n / 1000).toFixed(1))}k`;
  return String(n);
}

export const scopeLabel = (scope: BudgetScope, sessionId?: string) =>
  scope.kind === 'session' && scope.id === sessionId ? 'this session' : `${scope.kind}:${scope.id}`;

const PERIOD_WORDS: Record<string, string> = {
  day: 'today',
  week: 'this week',
  month: 'this month',
  total: 'in total',
};
export const periodWord = (period: string) => PERIOD_WORDS[period] ?? period;

const PER_PERIOD: Record<string, string> = { day: 'a day', week: 'a week', month: 'a month', total: 'in total' };
/** How a cap reads: `$5.00 a day`. */
export const perPeriod = (period: string) => PER_PERIOD[period] ?? period;

/** `"$0.12 spent · $4.88 left of $5.00 today"`, with tokens and reservations when there are any. */
export function usageText(u: BudgetUsage): string {
  const parts: string[] = [];
  if (u.cap_micro_usd !== undefined)
    parts.push(`${usd(u.spent_micro_usd)} spent · ${usd(u.remaining_micro_usd ?? 0)} left of ${usd(u.cap_micro_usd)}`);
  if (u.cap_tokens !== undefined)
    parts.push(
      `${tokens(u.spent_tokens)} tokens spent · ${tokens(u.remaining_tokens ?? 0)} left of ${tokens(u.cap_tokens)}`,
    );
  const reserved =
    u.reserved_micro_usd || u.reserved_tokens
      ? ` (${[u.reserved_micro_usd ? usd(u.reserved_micro_usd) : '', u.reserved_tokens ? `${tokens(u.reserved_tokens)} tokens` : ''].filter(Boolean).join(', ')} reserved by calls in flight)`
      : '';
  return `${parts.join(' · ')} ${periodWord(u.period)}${reserved}`;
}

/** How much of its tightest cap a budget has used (0-1); spent and reserved both count. */
export function usedFraction(u: BudgetUsage): number {
  const fractions: number[] = [];
  if (u.cap_micro_usd) fractions.push((u.spent_micro_usd + u.reserved_micro_usd) / u.cap_micro_usd);
  if (u.cap_tokens) fractions.push((u.spent_tokens + u.reserved_tokens) / u.cap_tokens);
  return Math.min(1, Math.max(0, ...fractions));
}

/**
 * The budgets that may cover a session: its own, and every workspace and agent budget (a session
 * does not say which workspace or agent it belongs to: whoever runs the turn passes those).
 */
export function coversSession(scope: BudgetScope, sessionId: string): boolean {
  return scope.kind !== 'session' || scope.id === sessionId;
}

/** What the chat and `/cost` know about a session's budgets. */
export type SessionBudgets = { available: false } | { available: true; usage: BudgetUsage[] };

export const NO_BUDGET_WORKER =
  'no spending caps: the llm-budget worker is not running (`iii-harness dev` starts it; `iii-harness budget` manages caps)';

/** One line per budget that may cover the session: `budget this session: $0.10 spent · …`. */
export function sessionBudgetLines(
  budgets: SessionBudgets,
  sessionId: string,
): Array<{ text: string; tight: boolean }> {
  if (!budgets.available) return [];
  return budgets.usage.map((u) => ({
    text: `budget ${scopeLabel(u.scope, sessionId)}: ${usageText(u)}`,
    tight: usedFraction(u) >= 0.8,
  }));
}
