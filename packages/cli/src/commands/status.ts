import { resolve } from 'node:path';
import { NO_BUDGET_WORKER, usageText } from '../budget/format.js';
import { HarnessClient } from '../client.js';
import { captureSdkConsole, engineReachable, engineUrl, notRunning } from '../connect.js';
import { inspectHarness, reportLines } from '../inspect.js';
import type { GlobalOptions } from '../program.js';
import { isAlive, readStackFile } from '../stack/supervisor.js';
import { c, printJson, sym, table } from '../style.js';
import { budgetMark } from './budget.js';

export async function runStatus(options: { json: boolean; dataDir: string }, globals: GlobalOptions): Promise<void> {
  const url = engineUrl(globals.url);
  const stack = readStackFile(resolve(options.dataDir));
  const processes = stack?.processes.map((p) => ({ ...p, alive: isAlive(p.pid) }));
  if (!(await engineReachable(url))) {
    if (options.json) printJson({ url, engine: 'not_running', processes });
    throw notRunning(url);
  }
  captureSdkConsole(process.env.IIH_CLI_DEBUG_LOG);
  const client = await HarnessClient.connect(url);
  try {
    const [report, holds, sessions, budgets] = await Promise.all([
      inspectHarness(client),
      client.pendingHolds().catch(() => undefined),
      client.listSessions(1).catch(() => undefined),
      budgetStatus(client),
    ]);
    if (options.json) {
      printJson({
        url,
        engine: 'running',
        workers: Object.fromEntries(report.workers),
        providers: report.providers,
        policy: report.policy,
        sessions: sessions?.total,
        pending_approvals: holds,
        // null: llm-budget is not running (no caps); else every budget with its usage now.
        budgets: !budgets.available ? null : 'rows' in budgets ? budgets.rows : { error: budgets.error },
        processes,
      });
      return;
    }
    const lines = [
      `${c.bold('Engine')}   ${sym.ok()} ${url}${stack ? c.dim(` (iii-harness dev, pid ${stack.pid})`) : ''}`,
    ];
    lines.push(c.bold('Workers'));
    const rows = [...report.workers.entries()]
      .sort()
      .map(([name, count]) => [sym.ok(), name, c.dim(`${count} functions`)]);
    for (const p of processes ?? [])
      if (!p.alive && p.name !== 'engine')
        rows.push([sym.fail(), p.name, c.red(`exited · iii-harness logs ${p.name}`)]);
    lines.push(rows.length ? table(rows, { indent: 2 }) : `  ${sym.warn()} none connected`);
    lines.push(...reportLines(report));
    lines.push(c.bold('Sessions'));
    lines.push(
      `  ${sessions ? `${sessions.total} stored` : c.dim('unknown (session worker not running)')}` +
        (holds
          ? `, ${holds.length ? c.yellow(`${holds.length} call(s) waiting for approval`) : 'nothing waiting for approval'}`
          : ''),
    );
    lines.push(c.bold('Budgets'), ...budgetLines(budgets));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await client.close().catch(() => undefined);
  }
}

type BudgetStatus =
  | { available: false }
  | { available: true; rows: Awaited<ReturnType<HarnessClient['budgetsWithUsage']>> }
  | { available: true; error: string };

async function budgetStatus(client: HarnessClient): Promise<BudgetStatus> {
  try {
    if (!(await client.budgetsAvailable())) return { available: false };
    return { available: true, rows: await client.budgetsWithUsage() };
  } catch (error) {
    return { available: true, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Spend and what is left per budget (scope), or why there is nothing to say. */
function budgetLines(status: BudgetStatus): string[] {
  if (!status.available) return [`  ${sym.warn()} ${NO_BUDGET_WORKER}`];
  if ('error' in status) return [`  ${sym.fail()} unknown: ${status.error}`];
  if (status.rows.length === 0)
    return [
      `  ${c.dim('none: calls are not capped (`iii-harness budget create --workspace default --usd 5 --period day`)')}`,
    ];
  return [
    table(
      status.rows.map(({ budget, usage }) => [
        budgetMark(usage),
        `${budget.scope.kind}:${budget.scope.id}`,
        usageText(usage),
        c.dim(budget.name ?? budget.budget_id),
      ]),
      { indent: 2 },
    ),
  ];
}
