import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, eventually, type TestClient, waitForPort } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { freePort, mainOf, type Proc, SCRIPTED_PROVIDER_MAIN, spawnEngine, spawnNode } from './processes.js';
import { DEFAULT_POLICY } from './stack.js';

export const CHAOS_MODEL_MAIN = join(__dirname, 'chaos-model-main.mjs');
export const TOOLS_MAIN = join(__dirname, 'tools-main.mjs');

/** The worker processes of a cluster, by the name tests use. */
export const WORKERS = [
  'session',
  'harness',
  'approval-gate',
  'hook-fanout',
  'turn-orchestrator',
  'provider',
  'tools',
] as const;
export type WorkerName = (typeof WORKERS)[number];
/** A base worker, the engine, or an extra process a test added (ClusterOptions.extra). */
export type ProcessName = WorkerName | 'engine' | (string & {});

/** A process beyond the base ones: a worker package's bin, under a name of the test's choosing. */
export interface ExtraProcess {
  pkg: string;
  /** A function whose registration says it is up (none: not waited for, e.g. a standby copy). */
  ready?: string;
  env?: Record<string, string>;
}

/** Functions whose registration says a process is up. */
const READY: Record<WorkerName | 'engine', string | undefined> = {
  engine: undefined,
  session: 'session::append',
  harness: 'policy::check_permissions',
  'approval-gate': 'approval::resolve',
  'hook-fanout': 'hook-fanout::publish_collect',
  'turn-orchestrator': 'run::start',
  provider: undefined, // set from the provider id
  tools: 'tools::echo',
};

export interface ClusterOptions {
  /** `scripted` (turns queued through provider::scripted::script) or `chaos` (a pure function of the conversation). */
  provider?: 'scripted' | 'chaos';
  /** Config per worker section, merged over the defaults (e.g. `{'turn-orchestrator': {policy_timeout_ms: 20000}}`). */
  config?: Record<string, Record<string, unknown>>;
  policy?: string;
  /** More processes, by name (a second copy of a worker, context-compaction, llm-budget, ...). */
  extra?: Record<string, ExtraProcess>;
  /** Environment per process name (e.g. the model's CHAOS_* settings for `provider`). */
  env?: Record<string, Record<string, string>>;
}

/** How a stopped process exited. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  timedOut: boolean;
}

export interface ToolRun {
  function_id: string;
  input: Record<string, unknown>;
  at: number;
}

/**
 * The engine and every worker of the loop as real processes on one data dir, each of which a test
 * can SIGKILL, SIGSTOP and SIGCONT, and restart. A process that exits without being told to is
 * recorded (`unexpectedExits`): no worker may die on its own.
 */
export class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'iih-cluster-'));
  readonly dataDir = join(this.dir, 'data');
  readonly configFile = join(this.dir, 'config.yaml');
  readonly runsFile = join(this.dir, 'tool-runs.jsonl');
  readonly procs = new Map<ProcessName, Proc>();
  readonly unexpectedExits: string[] = [];
  /** What every process wrote, those already gone included (for failure reports). */
  readonly output: Array<{ name: ProcessName; text: () => string }> = [];
  readonly providerId: string;
  readonly extra: Record<string, ExtraProcess>;
  private readonly env: Record<string, Record<string, string>>;
  client!: TestClient;
  url = '';
  private port = 0;
  private readonly stopping = new Set<Proc>();

  private constructor(options: ClusterOptions) {
    this.providerId = options.provider ?? 'scripted';
    this.extra = options.extra ?? {};
    this.env = options.env ?? {};
    const policyFile = join(this.dir, 'iii-permissions.yaml');
    writeFileSync(policyFile, options.policy ?? DEFAULT_POLICY);
    const sections: Record<string, Record<string, unknown>> = {
      harness: { permissions_path: policyFile },
      'turn-orchestrator': { coalesce_ms: 10 },
    };
    for (const [name, values] of Object.entries(options.config ?? {}))
      sections[name] = { ...sections[name], ...values };
    // YAML takes JSON values as they are.
    writeFileSync(
      this.configFile,
      Object.entries(sections)
        .map(([name, values]) =>
          [`${name}:`, ...Object.entries(values).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)].join('\n'),
        )
        .join('\n'),
    );
  }

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const cluster = new Cluster(options);
    cluster.port = await freePort();
    cluster.url = `ws://127.0.0.1:${cluster.port}`;
    await cluster.startProcess('engine');
    for (const name of [...WORKERS, ...Object.keys(cluster.extra)]) await cluster.startProcess(name, false);
    cluster.client = await connectClient(cluster.url);
    await cluster.waitReady([...WORKERS, ...Object.keys(cluster.extra)]);
    return cluster;
  }

  /** Start one process (again); waits until it is registered unless told not to. */
  async startProcess(name: ProcessName, wait = true): Promise<void> {
    const proc = this.spawn(name);
    this.procs.set(name, proc);
    this.output.push({ name, text: () => proc.output.join('') });
    proc.child.once('exit', (code, signal) => {
      if (!this.stopping.has(proc) && signal !== 'SIGKILL')
        this.unexpectedExits.push(`${name} exited on its own (code ${code}, signal ${signal})\n${proc.tail(10)}`);
    });
    if (name === 'engine') await waitForPort(this.port, undefined, 15_000);
    else if (wait) await this.waitReady([name]);
  }

  private spawn(name: ProcessName): Proc {
    if (name === 'engine') return spawnEngine(this.port, this.dataDir);
    const args = ['--url', this.url, '--config', this.configFile];
    const env = this.env[name] ?? {};
    if (name === 'provider')
      return spawnNode('provider', this.providerId === 'chaos' ? CHAOS_MODEL_MAIN : SCRIPTED_PROVIDER_MAIN, args, env);
    if (name === 'tools') return spawnNode('tools', TOOLS_MAIN, args, { TOOLS_RUNS_FILE: this.runsFile, ...env });
    const extra = this.extra[name];
    if (extra) return spawnNode(name, mainOf(extra.pkg), args, { ...extra.env, ...env });
    return spawnNode(name, mainOf(name), args, env);
  }

  /** The function whose registration says a process is up (undefined: nothing to wait for). */
  private readyFunction(name: ProcessName): string | undefined {
    if (name === 'provider') return `provider::${this.providerId}::stream`;
    if (name in this.extra) return this.extra[name]!.ready;
    return READY[name as WorkerName | 'engine'];
  }

  /** Until each named process has registered its functions again. */
  async waitReady(names: ProcessName[], timeoutMs = 60_000): Promise<void> {
    const ids = names.map((n) => this.readyFunction(n)).filter((id): id is string => id !== undefined);
    await eventually(
      async () => {
        for (const id of ids)
          await this.client.bus
            .call(contracts.engine.functionsInfo, { function_id: id }, { timeoutMs: 2_000 })
            .catch(() => {
              throw new Error(`${id} not registered yet\n${this.tails()}`);
            });
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  workerNames(): WorkerName[] {
    return [...WORKERS];
  }

  /** kill -9 (and wait until the OS reaped it). */
  async kill(name: ProcessName): Promise<void> {
    const proc = this.procs.get(name);
    if (!proc) return;
    this.stopping.add(proc);
    if (proc.child.signalCode === null && proc.child.exitCode === null) proc.child.kill('SIGCONT');
    await proc.kill9();
  }

  /**
   * SIGTERM (a graceful stop), and how the process exited. One that is still running after
   * `deadlineMs` is killed (-9) and reported as `timedOut`.
   */
  async terminate(name: ProcessName, deadlineMs = 30_000): Promise<Exit> {
    const proc = this.procs.get(name);
    if (!proc) throw new Error(`no process ${name}`);
    this.stopping.add(proc);
    const began = Date.now();
    const exited = new Promise<Omit<Exit, 'ms' | 'timedOut'>>((resolve) =>
      proc.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    proc.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadlineMs);
    });
    const first = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (first !== 'late') return { ...first, ms: Date.now() - began, timedOut: false };
    await proc.kill9();
    return { ...(await exited), ms: Date.now() - began, timedOut: true };
  }

  /** Freeze a process (hung, not dead): its connections stay open, it answers nothing. */
  pause(name: ProcessName): void {
    this.procs.get(name)?.child.kill('SIGSTOP');
  }

  resume(name: ProcessName): void {
    this.procs.get(name)?.child.kill('SIGCONT');
  }

  async restart(name: ProcessName, wait = true): Promise<void> {
    await this.kill(name);
    await this.startProcess(name, wait);
  }

  /** Every tool run so far, from the tools process's log. */
  runs(): ToolRun[] {
    if (!existsSync(this.runsFile)) return [];
    return readFileSync(this.runsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ToolRun);
  }

  /** Lines any process of this name wrote that match. */
  grep(name: ProcessName, pattern: RegExp): string[] {
    return this.output
      .filter((o) => o.name === name)
      .flatMap((o) => o.text().split('\n'))
      .filter((line) => pattern.test(line));
  }

  tails(lines = 5): string {
    return [...this.procs].map(([n, p]) => `--- ${n}\n${p.tail(lines)}`).join('\n');
  }

  async close(): Promise<void> {
    for (const proc of this.procs.values()) this.stopping.add(proc);
    await Promise.all([...this.procs.keys()].map((n) => this.kill(n)));
    await this.client?.close();
  }
}
