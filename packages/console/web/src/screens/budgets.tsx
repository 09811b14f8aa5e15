import type { Budget, BudgetAlertEvent, BudgetForecast, BudgetUsage } from '@iii-harness/types';
import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { timeFromNow, tokens, usd } from '../components/format';
import { rpc } from '../lib/rpc';
import { features, toast } from '../state/app';

interface BudgetView {
  budget: Budget;
  usage?: BudgetUsage;
  forecast?: BudgetForecast;
}

export const budgets = signal<BudgetView[] | null>(null);
const budgetsError = signal<string | null>(null);

/** Re-read the budgets: on open, when a turn completes (spend changes then) and on an alert. */
export async function loadBudgets(): Promise<void> {
  try {
    const { budgets: list } = await rpc.call('budget::list', {});
    budgets.value = await Promise.all(
      list.map(async (budget): Promise<BudgetView> => {
        const [usage, forecast] = await Promise.allSettled([
          rpc.call('budget::usage', { budget_id: budget.budget_id }),
          rpc.call('budget::forecast', { budget_id: budget.budget_id }),
        ]);
        return {
          budget,
          ...(usage.status === 'fulfilled' && usage.value.usage[0] ? { usage: usage.value.usage[0] } : {}),
          ...(forecast.status === 'fulfilled' ? { forecast: forecast.value } : {}),
        };
      }),
    );
    budgetsError.value = null;
  } catch (error) {
    budgetsError.value = (error as Error).message;
  }
}

/** A `budget::alerts` item pushed by the console: say it, and re-read if the screen is open. */
export function onBudgetAlert(alert: BudgetAlertEvent, budgetsOpen: boolean): void {
  const what =
    alert.metric === 'usd'
      ? `${usd(micro(alert.spent))} of ${usd(micro(alert.cap))}`
      : `${tokens(alert.spent)} of ${tokens(alert.cap)} tokens`;
  toast(
    `Budget ${alert.budget_id} passed ${alert.threshold_pct}% (${what}, ${alert.period_label})`,
    alert.threshold_pct >= 100 ? 'error' : 'info',
  );
  if (budgetsOpen) void loadBudgets();
}

const micro = (value: number | undefined) => (value === undefined ? undefined : value / 1_000_000);

export function BudgetsScreen() {
  const available = features.value?.budgets;
  useEffect(() => {
    if (available) void loadBudgets();
  }, [available]);
  return (
    <main class="page" id="main">
      <header class="page-head">
        <h1>Budgets</h1>
        <p class="muted">
          Spend, reservations in flight and what is left in the current period, per scope. Re-read when a turn completes
          or a budget passes a threshold.
        </p>
      </header>
      {!available ? (
        <div class="empty-state">
          <p>
            The budget worker (<code>llm-budget</code>) is not running, so nothing caps spend.
          </p>
        </div>
      ) : budgetsError.value ? (
        <p class="notice notice-error">{budgetsError.value}</p>
      ) : budgets.value === null ? (
        <p class="muted">Loading…</p>
      ) : budgets.value.length === 0 ? (
        <p class="muted">
          No budgets are defined (<code>budget::create</code>, or <code>iii-harness budget</code>).
        </p>
      ) : (
        <div class="budget-grid">
          {budgets.value.map((b) => (
            <BudgetCard key={b.budget.budget_id} view={b} />
          ))}
        </div>
      )}
    </main>
  );
}

function Meter({
  label,
  used,
  reserved,
  cap,
  format,
}: {
  label: string;
  used: number;
  reserved: number;
  cap: number;
  format(n: number): string;
}) {
  const pct = (n: number) => Math.min(100, (n / cap) * 100);
  return (
    <div class="meter-block">
      <div class="meter-labels small">
        <span>{label}</span>
        <span>
          {format(used)} of {format(cap)}
          {reserved > 0 ? ` (+${format(reserved)} reserved)` : ''}
        </span>
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: two segments (spent, reserved) that <meter> cannot draw */}
      <div class="meter" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={cap} aria-valuenow={used}>
        <span class={pct(used) >= 90 ? 'meter-used hot' : 'meter-used'} style={{ width: `${pct(used)}%` }} />
        <span
          class="meter-reserved"
          style={{ left: `${pct(used)}%`, width: `${Math.max(0, pct(used + reserved) - pct(used))}%` }}
        />
      </div>
    </div>
  );
}

function BudgetCard({ view: { budget: b, usage: u, forecast: f } }: { view: BudgetView }) {
  const remaining = [
    u?.remaining_micro_usd !== undefined ? usd(micro(u.remaining_micro_usd)) : undefined,
    u?.remaining_tokens !== undefined ? `${tokens(u.remaining_tokens)} tokens` : undefined,
  ].filter(Boolean);
  return (
    <article class="budget-card" aria-label={b.name ?? b.budget_id}>
      <header class="budget-head">
        <strong>{b.name ?? b.budget_id}</strong>
        <span class="muted small">
          {b.scope.kind} {b.scope.id} · {b.period}
          {u && u.period_label !== b.period ? ` · ${u.period_label}` : ''}
        </span>
      </header>
      {u?.cap_micro_usd !== undefined && (
        <Meter
          label="USD"
          used={micro(u.spent_micro_usd) ?? 0}
          reserved={micro(u.reserved_micro_usd) ?? 0}
          cap={micro(u.cap_micro_usd)!}
          format={(n) => usd(n)}
        />
      )}
      {u?.cap_tokens !== undefined && (
        <Meter label="Tokens" used={u.spent_tokens} reserved={u.reserved_tokens} cap={u.cap_tokens} format={tokens} />
      )}
      <p class="small muted">Remaining: {remaining.join(' · ') || '—'}</p>
      {f && <ForecastLine forecast={f} />}
    </article>
  );
}

function ForecastLine({ forecast: f }: { forecast: BudgetForecast }) {
  if (f.exhausts_at !== null)
    return <p class="small budget-warn">At this rate the cap is reached {timeFromNow(f.exhausts_at)}.</p>;
  if (f.projected_micro_usd !== null && f.projected_micro_usd > 0)
    return <p class="small muted">At this rate: {usd(micro(f.projected_micro_usd))} by the end of the period.</p>;
  return null;
}
