import type { Budget, BudgetPeriod, BudgetScope, BudgetUsage } from '@iii-harness/types';
import { parseUsd, periodWord, perPeriod, tokens, usageText, usd, usedFraction } from '../budget/format.js';
import type { BudgetUpdate, HarnessClient } from '../client.js';
import { CliError, usageError } from '../errors.js';
import type { GlobalOptions } from '../program.js';
import { c, printJson, sym, table, when } from '../style.js';
import { withClient } from './common.js';

/**
 * `iii-harness budget`: spending caps, through llm-budget's functions (`budget::*`). Amounts are
 * typed in dollars (`--usd 5`, `--usd 0.25`) and sent as integer micro-dollars.
 */

interface ScopeOptions {
  workspace?: string;
  agent?: string;
  session?: string;
}

interface CapOptions {
  usd?: string;
  tokens?: string;
  period?: BudgetPeriod;
  tz?: string;
  name?: string;
  allowUnpriced?: boolean;
  alerts?: string;
}

const NOT_RUNNING =
  'budgets are not available: the llm-budget worker is not running (`iii-harness dev` starts it; `iii-harness logs llm-budget` says why it stopped)';

/** The scopes named by --workspace / --agent / --session. */
function scopesOf(options: ScopeOptions): BudgetScope[] {
  const named: BudgetScope[] = [];
  if (options.workspace) named.push({ kind: 'workspace', id: options.workspace });
  if (options.agent) named.push({ kind: 'agent', id: options.agent });
  if (options.session) named.push({ kind: 'session', id: options.session });
  return named;
}

function oneScope(options: ScopeOptions, required: boolean): BudgetScope | undefined {
  const named = scopesOf(options);
  if (named.length > 1) throw usageError('name one scope: --workspace, --agent or --session');
  if (required && named.length === 0)
    throw usageError('what does the budget cap? name one of --workspace <id>, --agent <id>, --session <id>');
  return named[0];
}

function microUsdOption(value: string): number {
  const micro = parseUsd(value);
  if (micro === undefined || micro === 0)
    throw usageError(`--usd must be a positive amount in dollars with at most 6 decimals (e.g. 5, 0.25), not ${value}`);
  return micro;
}

function tokensOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0)
    throw usageError(`--tokens must be a positive whole number, not ${value}`);
  return Number(value);
}

function alertsOption(value: string): number[] {
  const list = value.split(',').map((s) => s.trim());
  if (list.some((s) => !/^\d+$/.test(s) || Number(s) < 1 || Number(s) > 100))
    throw usageError(`--alerts takes percentages from 1 to 100, comma-separated (e.g. 50,80,100), not ${value}`);
  return list.map(Number);
}

/** Run with llm-budget, or say in one line that it is not there. */
async function withBudgets<T>(globals: GlobalOptions, work: (client: HarnessClient) => Promise<T>): Promise<T> {
  return withClient(globals, async (client) => {
    if (!(await client.budgetsAvailable())) throw new CliError(NOT_RUNNING);
    return work(client);
  });
}

const capText = (b: Budget) =>
  [
    b.cap_micro_usd !== undefined ? usd(b.cap_micro_usd) : '',
    b.cap_tokens !== undefined ? `${tokens(b.cap_tokens)} tokens` : '',
  ]
    .filter(Boolean)
    .join(' + ');

/** ✔ under 80 %, ! from 80 %, ✖ when nothing is left. */
export function budgetMark(u: BudgetUsage): string {
  const used = usedFraction(u);
  return used >= 1 ? sym.fail() : used >= 0.8 ? sym.warn() : sym.ok();
}

const leftText = (u: BudgetUsage) =>
  [
    u.remaining_micro_usd !== undefined ? usd(u.remaining_micro_usd) : '',
    u.remaining_tokens !== undefined ? `${tokens(u.remaining_tokens)} tokens` : '',
  ]
    .filter(Boolean)
    .join(' + ');

const spentText = (u: BudgetUsage) =>
  [
    u.cap_micro_usd !== undefined ? usd(u.spent_micro_usd) : '',
    u.cap_tokens !== undefined ? `${tokens(u.spent_tokens)} tokens` : '',
  ]
    .filter(Boolean)
    .join(' + ');

export async function listBudgets(options: ScopeOptions & { json: boolean }, globals: GlobalOptions): Promise<void> {
  await withBudgets(globals, async (client) => {
    const rows = await client.budgetsWithUsage(oneScope(options, false));
    if (options.json) return printJson({ budgets: rows });
    if (rows.length === 0) {
      process.stdout.write(
        'No budgets: calls are not capped. Create one with `iii-harness budget create --workspace default --usd 5 --period day`.\n',
      );
      return;
    }
    process.stdout.write(
      `${table([
        ['', 'BUDGET', 'SCOPE', 'PERIOD', 'CAP', 'SPENT', 'LEFT', 'NAME'].map((h) => c.dim(h)),
        ...rows.map(({ budget, usage }) => [
          budgetMark(usage),
          budget.budget_id,
          `${budget.scope.kind}:${budget.scope.id}`,
          `${budget.period} ${c.dim(usage.period_label)}`,
          capText(budget),
          spentText(usage),
          leftText(usage),
          budget.name ?? '',
        ]),
      ])}\n`,
    );
  });
}

export async function showBudget(id: string, options: { json: boolean }, globals: GlobalOptions): Promise<void> {
  await withBudgets(globals, async (client) => {
    const budget = await client.budget(id);
    if (!budget) throw usageError(`there is no budget ${id} (\`iii-harness budget ls\` lists them)`);
    const [[usage], forecast] = await Promise.all([client.budgetUsage({ budget_id: id }), client.budgetForecast(id)]);
    if (options.json) return printJson({ budget, usage, forecast });
    const lines = [
      `${c.bold(`Budget ${budget.budget_id}`)}${budget.name ? ` ${budget.name}` : ''} ${c.dim(`· created ${when(budget.created_at)}`)}`,
      table(
        [
          ['scope', `${budget.scope.kind}:${budget.scope.id}`],
          ['cap', `${capText(budget)} ${perPeriod(budget.period)}`],
          ['period', `${budget.period} ${c.dim(`${usage?.period_label ?? ''} · ${budget.time_zone}`)}`],
          ['now', usage ? `${budgetMark(usage)} ${usageText(usage)}` : c.dim('unknown')],
          [
            'forecast',
            forecast.projected_micro_usd !== null && budget.cap_micro_usd !== undefined
              ? `${usd(forecast.projected_micro_usd)} by the end of the period at ${usd(forecast.rate_micro_usd_per_hour)}/h${forecast.exhausts_at ? c.yellow(` · runs out ${when(forecast.exhausts_at)}`) : ''}`
              : forecast.on_track
                ? 'on track'
                : c.yellow('at this rate the cap is reached'),
          ],
          ['alerts', `${budget.alert_thresholds_pct.map((p) => `${p}%`).join(', ') || 'none'}`],
          ['unpriced models', budget.allow_unpriced ? 'allowed (cost 0)' : 'refused under a USD cap'],
        ].map(([k, v]) => [c.dim(k!), v!]),
        { indent: 2 },
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}

export async function createBudget(
  options: ScopeOptions & CapOptions & { json: boolean },
  globals: GlobalOptions,
): Promise<void> {
  const scope = oneScope(options, true)!;
  if (options.usd === undefined && options.tokens === undefined)
    throw usageError('a budget needs a cap: --usd <dollars>, --tokens <n>, or both');
  const input = {
    scope,
    period: options.period ?? 'month',
    ...(options.usd !== undefined ? { cap_micro_usd: microUsdOption(options.usd) } : {}),
    ...(options.tokens !== undefined ? { cap_tokens: tokensOption(options.tokens) } : {}),
    ...(options.tz ? { time_zone: options.tz } : {}),
    ...(options.name ? { name: options.name } : {}),
    ...(options.allowUnpriced ? { allow_unpriced: true } : {}),
    ...(options.alerts ? { alert_thresholds_pct: alertsOption(options.alerts) } : {}),
  };
  await withBudgets(globals, async (client) => {
    const budget = await client.createBudget(input);
    if (options.json) return printJson({ budget });
    process.stdout.write(
      `${sym.ok()} budget ${c.bold(budget.budget_id)}: ${capText(budget)} ${periodWord(budget.period)} for ${budget.scope.kind}:${budget.scope.id}\n`,
    );
  });
}

/** `none` removes a cap (the other must remain). */
const capChange = <T>(value: string | undefined, parse: (v: string) => T): T | null | undefined =>
  value === undefined ? undefined : value === 'none' ? null : parse(value);

export async function setBudget(id: string, options: CapOptions & { json: boolean }, globals: GlobalOptions) {
  const usdCap = capChange(options.usd, microUsdOption);
  const tokenCap = capChange(options.tokens, tokensOption);
  const change: BudgetUpdate = {
    budget_id: id,
    ...(usdCap !== undefined ? { cap_micro_usd: usdCap } : {}),
    ...(tokenCap !== undefined ? { cap_tokens: tokenCap } : {}),
    ...(options.period ? { period: options.period } : {}),
    ...(options.tz ? { time_zone: options.tz } : {}),
    ...(options.name ? { name: options.name } : {}),
    ...(options.allowUnpriced !== undefined ? { allow_unpriced: options.allowUnpriced } : {}),
  };
  const alerts = options.alerts ? alertsOption(options.alerts) : undefined;
  if (Object.keys(change).length === 1 && !alerts)
    throw usageError(
      'nothing to change: give --usd, --tokens, --period, --tz, --name, --alerts or --[no-]allow-unpriced',
    );
  await withBudgets(globals, async (client) => {
    if (!(await client.budget(id))) throw usageError(`there is no budget ${id} (\`iii-harness budget ls\` lists them)`);
    let budget = Object.keys(change).length > 1 ? await client.updateBudget(change) : undefined;
    if (alerts) budget = await client.setBudgetAlerts(id, alerts);
    if (options.json) return printJson({ budget });
    process.stdout.write(
      `${sym.ok()} budget ${c.bold(id)}: ${capText(budget!)} ${periodWord(budget!.period)} for ${budget!.scope.kind}:${budget!.scope.id}\n`,
    );
  });
}

export async function removeBudget(id: string, globals: GlobalOptions): Promise<void> {
  await withBudgets(globals, async (client) => {
    if (!(await client.budget(id))) throw usageError(`there is no budget ${id} (\`iii-harness budget ls\` lists them)`);
    await client.deleteBudget(id);
    process.stdout.write(`deleted budget ${id}: calls are no longer checked against it\n`);
  });
}

/** `budget usage`: spend and what is left, of every budget covering the scopes named (else of all). */
export async function budgetUsage(options: ScopeOptions & { json: boolean }, globals: GlobalOptions): Promise<void> {
  await withBudgets(globals, async (client) => {
    const named = scopesOf(options);
    const usage = named.length
      ? await client.budgetUsage({
          scopes: {
            ...(options.workspace ? { workspace_id: options.workspace } : {}),
            ...(options.agent ? { agent_id: options.agent } : {}),
            ...(options.session ? { session_id: options.session } : {}),
          },
        })
      : (await client.budgetsWithUsage()).map((r) => r.usage);
    if (options.json) return printJson({ usage });
    if (usage.length === 0) {
      process.stdout.write(
        `No budget covers ${named.length ? named.map((s) => `${s.kind}:${s.id}`).join(', ') : 'anything'}: calls are not capped.\n`,
      );
      return;
    }
    process.stdout.write(
      `${table(usage.map((u) => [budgetMark(u), `${u.scope.kind}:${u.scope.id}`, usageText(u), c.dim(u.budget_id)]))}\n`,
    );
  });
}
