import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, eventually, type TestClient, waitForPort } from '@iii-harness/testing';
import { contracts, type SpanTreeNode, type StoredSpan } from '@iii-harness/types';
import { freePort, mainOf, type Proc, SCRIPTED_PROVIDER_MAIN, spawnEngine, spawnNode } from './processes.js';
import { DEFAULT_POLICY } from './stack.js';

/** A worker process of the cluster: its entry, environment, and the function that says it is up. */
export interface ProcessSpec {
  name: string;
  main: string;
  ready?: string;
  env?: Record<string, string>;
}

/** The loop's own workers, in start order. */
const CORE: ProcessSpec[] = [
  { name: 'session', main: mainOf('session'), ready: 'session::append' },
  { name: 'harness', main: mainOf('harness'), ready: 'policy::check_permissions' },
  { name: 'approval-gate', main: mainOf('approval-gate'), ready: 'approval::resolve' },
  { name: 'hook-fanout', main: mainOf('hook-fanout'), ready: 'hook-fanout::publish_collect' },
  { name: 'turn-orchestrator', main: mainOf('turn-orchestrator'), ready: 'run::start' },
];

export interface TraceClusterOptions {
  /** The tools process. */
  tools: Omit<ProcessSpec, 'name'>;
  /** The provider process and its id (default: the scripted provider, `scripted`). */
  provider?: { id: string; spec: Omit<ProcessSpec, 'name'> };
  /** More processes (e.g. auth-credentials). */
  extra?: ProcessSpec[];
  /** Environment of every worker process (OTel is on unless this turns it off). */
  env?: Record<string, string>;
  /** Config per worker section. */
  config?: Record<string, Record<string, unknown>>;
}

/**
 * The dev engine and every worker of the loop as real processes on one data dir, with telemetry
 * on: each worker exports its spans to the engine over the SDK's `/otel` socket, as in production.
 * (The shared e2e cluster turns telemetry off in its children; this one is for trace tests.)
 */
export class TraceCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'iih-trace-'));
  readonly procs = new Map<string, Proc>();
  /** Every process started, those killed included (what they wrote is kept). */
  readonly history: Proc[] = [];
  readonly providerId: string;
  private readonly specs: ProcessSpec[];
  client!: TestClient;
  url = '';
  private port = 0;
  private readonly configFile = join(this.dir, 'config.yaml');

  private constructor(private readonly options: TraceClusterOptions) {
    const provider = options.provider ?? {
      id: 'scripted',
      spec: { main: SCRIPTED_PROVIDER_MAIN, ready: 'provider::scripted::stream' },
    };
    this.providerId = provider.id;
    this.specs = [
      ...(options.extra ?? []),
      ...CORE,
      { name: 'provider', ...provider.spec },
      { name: 'tools', ...options.tools },
    ];
    const policyFile = join(this.dir, 'iii-permissions.yaml');
    writeFileSync(policyFile, DEFAULT_POLICY);
    const sections: Record<string, Record<string, unknown>> = {
      harness: { permissions_path: policyFile },
      'turn-orchestrator': { coalesce_ms: 10 },
    };
    for (const [name, values] of Object.entries(options.config ?? {}))
      sections[name] = { ...sections[name], ...values };
    writeFileSync(
      this.configFile,
      Object.entries(sections)
        .map(([name, values]) =>
          [`${name}:`, ...Object.entries(values).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)].join('\n'),
        )
        .join('\n'),
    );
  }

  static async start(options: TraceClusterOptions): Promise<TraceCluster> {
    const cluster = new TraceCluster(options);
    cluster.port = await freePort();
    cluster.url = `ws://127.0.0.1:${cluster.port}`;
    await cluster.startAll();
    cluster.client = await connectClient(cluster.url);
    await cluster.waitReady();
    return cluster;
  }

  /** kill -9 every process (engine included), then start them all again on the same data dir. */
  async restartAll(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.kill9()));
    this.procs.clear();
    await this.startAll();
    await this.waitReady();
  }

  private async startAll(): Promise<void> {
    const engine = spawnEngine(this.port, join(this.dir, 'data'));
    this.procs.set('engine', engine);
    this.history.push(engine);
    await waitForPort(this.port, undefined, 15_000);
    const args = ['--url', this.url, '--config', this.configFile];
    for (const spec of this.specs) {
      const env = { OTEL_ENABLED: 'true', ...this.options.env, ...spec.env };
      const proc = spawnNode(spec.name, spec.main, args, env);
      this.procs.set(spec.name, proc);
      this.history.push(proc);
    }
  }

  private async waitReady(timeoutMs = 60_000): Promise<void> {
    const ids = this.specs.map((spec) => spec.ready).filter((id): id is string => !!id);
    await eventually(
      async () => {
        for (const function_id of ids)
          await this.client.bus
            .call(contracts.engine.functionsInfo, { function_id }, { timeoutMs: 2_000 })
            .catch(() => {
              throw new Error(`${function_id} not registered yet\n${this.tails()}`);
            });
      },
      { timeoutMs, intervalMs: 200 },
    );
    // The provider declares itself to the harness in the background: a request before that is
    // served with its defaults (and the harness's resolve fails, as it should).
    await eventually(
      async () => {
        const { providers } = await this.client.bus.call(contracts.harness.providerList, {});
        if (!providers.some((p) => p.id === this.providerId))
          throw new Error(`provider ${this.providerId} not declared yet`);
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  tails(lines = 8): string {
    return [...this.procs].map(([n, p]) => `--- ${n}\n${p.tail(lines)}`).join('\n');
  }

  async close(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.kill9()));
    await this.client?.close();
  }
}

/** Every span of a tree, depth first. */
export function flatten(roots: SpanTreeNode[]): SpanTreeNode[] {
  return roots.flatMap((node) => [node, ...flatten(node.children)]);
}

export const attr = (span: StoredSpan, key: string): string | undefined =>
  span.attributes.find(([k]) => k === key)?.[1];

/** The tree as indented lines (for failure messages). */
export function render(roots: SpanTreeNode[], depth = 0): string {
  return roots
    .map(
      (node) =>
        `${'  '.repeat(depth)}${node.name} [${node.status}] ${node.span_id}${node.links.length ? ` links:${node.links.map((l) => l.span_id).join(',')}` : ''}\n${render(node.children, depth + 1)}`,
    )
    .join('');
}
