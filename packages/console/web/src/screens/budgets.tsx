import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { tokens, usd } from '../components/format';
import { rpc } from '../lib/rpc';
import { features } from '../state/app';

/** The llm-budget worker's shapes (read loosely: its contract lands in types with issue 15). */
interface BudgetView {
  budget_id: string;
  name?: string;
  scope?: { kind: string; id: string };
  period?: string;
  usage?: {
    period_label?: string;
    cap_micro_usd?: number;
    cap_tokens?: number;
    spent_micro_usd?: number;
    spent_tokens?: number;
    reserved_micro_usd?: number;
    reserved_tokens?: number;
    remaining_micro_usd?: number;
    remaining_tokens?: number;
  };
}

export const budgets = signal<BudgetView[] | null>(null);
const budgetsError = signal<string | null>(null);

/** Re-read budgets (on open, and when a turn completes: spend changes only then). */
export async function loadBudgets(): Promise<void> {
  try {
    const { budgets: list } = await rpc.call('budget::list', {});
    const withUsage = await Promise.all(
      list.map(async (b) => {
        const usage = await rpc
          .call('budget::usage', { budget_id: b.budget_id })
          .then((u) => u.usage[0])
          .catch(() => undefined);
        return { ...(b as unknown as BudgetView), ...(usage ? { usage: usage as BudgetView['usage'] } : {}) };
      }),
    );
    budgets.value = withUsage;
    budgetsError.value = null;
  } catch (error) {
    budgetsError.value = (error as Error).message;
  }
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
        <p class="muted">Spend and what is left in the current period, per scope. Updated when a turn completes.</p>
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
        <p class="muted">No budgets are defined.</p>
      ) : (
        <div class="budget-grid">
          {budgets.value.map((b) => (
            <BudgetCard key={b.budget_id} budget={b} />
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

function BudgetCard({ budget: b }: { budget: BudgetView }) {
  const u = b.usage;
  return (
    <article class="budget-card" aria-label={b.name ?? b.budget_id}>
      <header class="budget-head">
        <strong>{b.name ?? b.budget_id}</strong>
        <span class="muted small">
          {b.scope ? `${b.scope.kind} ${b.scope.id}` : ''} · {b.period}
          {u?.period_label ? ` · ${u.period_label}` : ''}
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
        <Meter
          label="Tokens"
          used={u.spent_tokens ?? 0}
          reserved={u.reserved_tokens ?? 0}
          cap={u.cap_tokens}
          format={tokens}
        />
      )}
      <p class="small muted">
        Remaining:{' '}
        {[
          u?.remaining_micro_usd !== undefined ? usd(micro(u.remaining_micro_usd)) : undefined,
          u?.remaining_tokens !== undefined ? `${tokens(u.remaining_tokens)} tokens` : undefined,
        ]
          .filter(Boolean)
          .join(' · ') || '—'}
      </p>
    </article>
  );
}
