import { existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { contracts } from '@iii-harness/types';
import { parse as parseYaml } from 'yaml';
import { HarnessClient } from '../client.js';
import { captureSdkConsole } from '../connect.js';
import { CliError, usageError } from '../errors.js';
import { inspectHarness, reportLines } from '../inspect.js';
import type { GlobalOptions } from '../program.js';
import { DEMO_WORKER, selectWorkers } from '../stack/catalog.js';
import { lastLine, logsDir } from '../stack/logs.js';
import { Stack, type StackProcess } from '../stack/supervisor.js';
import { c, sym, table } from '../style.js';
import { Progress } from './progress.js';

export interface DevOptions {
  port?: number;
  httpPort: number;
  consolePort?: number;
  dataDir: string;
  memory: boolean;
  config?: string;
  only?: string[];
  demo: boolean;
  logLevel: string;
  chat: boolean;
  provider?: string;
  model?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** With III_URL set, `dev` starts the engine where every other command will look for it. */
function portOfEnv(): number | undefined {
  if (!process.env.III_URL) return undefined;
  try {
    const { port, hostname } = new URL(process.env.III_URL);
    if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostname)) return undefined;
    return port ? Number(port) : undefined;
  } catch {
    throw usageError(`III_URL is not a URL: ${process.env.III_URL}`);
  }
}

/** The policy file the harness will read: from the config, the environment, or the default. */
function policyPathOf(configFile: string | undefined): string {
  let configured: unknown;
  if (configFile)
    try {
      configured = (parseYaml(readFileSync(configFile, 'utf8')) as { harness?: { permissions_path?: unknown } })
        ?.harness?.permissions_path;
    } catch {
      // the harness reports a bad config itself
    }
  return resolve(
    process.env.IIH_PERMISSIONS_PATH ?? (typeof configured === 'string' ? configured : './iii-permissions.yaml'),
  );
}

/** Wait until each started worker has registered its functions (or its process has died). */
async function waitForWorkers(
  client: HarnessClient,
  workers: StackProcess[],
  progress: Progress,
  timeoutMs = 90_000,
): Promise<{ up: string[]; failed: Array<{ name: string; why: string }> }> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(workers.map((w) => w.name));
  const failed: Array<{ name: string; why: string }> = [];
  while (pending.size > 0) {
    const registered = new Set((await client.functions()).map((f) => f.worker_name));
    for (const worker of workers) {
      if (!pending.has(worker.name)) continue;
      if (registered.has(worker.name)) pending.delete(worker.name);
      else if (!worker.running) {
        pending.delete(worker.name);
        failed.push({ name: worker.name, why: lastLine(worker.log) ?? 'exited' });
      }
    }
    progress.update(`starting workers ${workers.length - pending.size}/${workers.length}`);
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      for (const name of pending) failed.push({ name, why: `did not register within ${timeoutMs / 1000} s` });
      break;
    }
    await sleep(250);
  }
  return { up: workers.map((w) => w.name).filter((n) => !failed.some((f) => f.name === n)), failed };
}

/** Providers declare themselves and discover models in the background: give them a moment. */
async function settleProviders(client: HarnessClient, expected: number): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const providers = await client.providers().catch(() => []);
    if (providers.length >= expected) break;
    await sleep(250);
  }
  await sleep(500);
}

/** Where the web console answers (its port may have been chosen for it), as `open` will find it. */
async function consoleLines(client: HarnessClient): Promise<string[]> {
  const status = await client.bus.call(contracts.console.status, {}).catch(() => undefined);
  if (!status) return [];
  return [`${c.bold('Console')}  ${c.cyan(status.url)} ${c.dim('· iii-harness open')}`];
}

export async function runDev(options: DevOptions, globals: GlobalOptions): Promise<void> {
  if (globals.url) throw usageError('dev starts its own engine: use --port instead of --url');
  const { workers, unknown } = selectWorkers(options.only);
  if (unknown.length) throw usageError(`unknown worker(s): ${unknown.join(', ')} (see \`iii-harness dev --help\`)`);
  const demo = options.demo || (options.only?.includes(DEMO_WORKER.name) ?? false);
  const configFile = options.config ?? (existsSync('config.yaml') ? 'config.yaml' : undefined);
  if (options.config && !existsSync(options.config)) throw usageError(`no config file ${options.config}`);

  const stack = new Stack({
    port: options.port ?? portOfEnv() ?? 49134,
    httpPort: options.httpPort,
    consolePort: options.consolePort,
    dataDir: options.dataDir,
    memory: options.memory,
    config: configFile,
    workers,
    demo,
    logLevel: options.logLevel,
  });
  await stack.preflight();
  captureSdkConsole(resolve(logsDir(stack.dataDir), 'cli.log'));

  let stopping: Promise<void> | undefined;
  const stopAll = () => {
    stopping ??= stack.stop();
    return stopping;
  };
  const progress = new Progress();
  // Until the stack is up (and while a chat owns the terminal), a signal stops everything and exits.
  const interrupted = () => {
    progress.stop();
    process.stderr.write(c.dim('stopping…\n'));
    void stopAll().then(() => process.exit(130));
  };
  const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const signal of SIGNALS) process.on(signal, interrupted);
  let client: HarnessClient | undefined;
  try {
    progress.update('starting the engine');
    await stack.startEngine();
    const started = stack.startWorkers();
    client = await HarnessClient.connect(stack.url);
    const { up, failed } = await waitForWorkers(client, started, progress);
    if (failed.length) {
      progress.stop();
      const first = failed[0]!;
      throw new CliError(
        `worker ${first.name} could not start: ${first.why} (log: ${relative(process.cwd(), resolve(logsDir(stack.dataDir), `${first.name}.log`))})`,
      );
    }
    progress.update('waiting for providers');
    await settleProviders(client, workers.filter((w) => w.provider).length + (demo ? 1 : 0));
    progress.stop();

    const report = await inspectHarness(client);
    const policyPath = policyPathOf(configFile);
    process.stdout.write(
      `${[
        `${c.bold('iii-harness dev')}  engine ${c.cyan(stack.url)}${options.memory ? c.dim(' (in memory)') : c.dim(` · data ${relative(process.cwd(), stack.dataDir) || '.'}`)}`,
        c.bold('Workers'),
        table(
          up.map((name) => [sym.ok(), name, c.dim(`${report.workers.get(name) ?? 0} functions`)]),
          { indent: 2 },
        ),
        ...reportLines(report, relative(process.cwd(), policyPath) || policyPath),
        ...(up.includes('console') ? await consoleLines(client) : []),
        c.dim(`Logs: iii-harness logs [worker] [-f] (${relative(process.cwd(), logsDir(stack.dataDir)) || '.'})`),
      ].join('\n')}\n`,
    );
    await client.close();
    client = undefined;

    stack.onExit((proc, code, signal) => {
      process.stderr.write(
        `${sym.fail()} ${proc.name} exited (${signal ?? `code ${code}`}): ${lastLine(proc.log) ?? ''} ${c.dim(`· iii-harness logs ${proc.name}`)}\n`,
      );
    });

    if (options.chat) {
      const { runChat } = await import('./chat.js');
      await runChat({ provider: options.provider, model: options.model }, { url: stack.url });
    } else {
      process.stdout.write(
        c.dim('Ready. Chat with `iii-harness chat` in another terminal. Ctrl-C stops everything.\n'),
      );
      for (const signal of SIGNALS) process.off(signal, interrupted);
      // Later signals (a second Ctrl-C) must not kill us halfway through stopping the workers.
      await new Promise<void>((done) => {
        for (const signal of SIGNALS) process.on(signal, () => done());
      });
      process.stdout.write(c.dim('stopping…\n'));
    }
  } finally {
    for (const signal of SIGNALS) process.off(signal, interrupted);
    progress.stop();
    await client?.close().catch(() => undefined);
    await stopAll();
  }
}
