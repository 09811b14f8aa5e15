import { resolve } from 'node:path';
import { HarnessClient } from '../client.js';
import { captureSdkConsole, engineReachable, engineUrl, notRunning } from '../connect.js';
import { inspectHarness, reportLines } from '../inspect.js';
import type { GlobalOptions } from '../program.js';
import { isAlive, readStackFile } from '../stack/supervisor.js';
import { c, printJson, sym, table } from '../style.js';

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
    const [report, holds, sessions] = await Promise.all([
      inspectHarness(client),
      client.pendingHolds().catch(() => undefined),
      client.listSessions(1).catch(() => undefined),
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
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await client.close().catch(() => undefined);
  }
}
