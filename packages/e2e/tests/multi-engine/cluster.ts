import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalService, startRabbitMq, startRedisServer } from '@iii-harness/dev-engine/services';
import { connectClient, eventually, type TestClient } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { CHAOS_MODEL_MAIN, TOOLS_MAIN } from '../helpers/cluster.js';
import { freePort, mainOf, type Proc, spawnNode } from '../helpers/processes.js';
import { DEFAULT_POLICY } from '../helpers/stack.js';

/**
 * Several dev engines as real processes, sharing a real Redis (state, streams, pubsub, cron
 * locks) and a real RabbitMQ (queues and durable topics) through the real engine's `config.yaml`
 * adapter entries, each engine with its own copy of every worker (their built bins), as a
 * deployment of iii past one machine runs them. An engine can be killed with all its workers.
 */

/** The workers each engine runs, with a function whose registration says the process is up. */
const WORKERS: Array<{ name: string; ready: string }> = [
  { name: 'session', ready: 'session::append' },
  { name: 'harness', ready: 'policy::check_permissions' },
  { name: 'approval-gate', ready: 'approval::resolve' },
  { name: 'hook-fanout', ready: 'hook-fanout::publish_collect' },
  { name: 'turn-orchestrator', ready: 'run::start' },
  { name: 'model', ready: 'provider::chaos::stream' },
  { name: 'tools', ready: 'tools::echo' },
];

export interface EngineNode {
  name: string;
  url: string;
  client: TestClient;
  procs: Proc[];
  alive: boolean;
}

export interface ToolRun {
  function_id: string;
  input: { marker?: string };
  at: number;
}

export class MultiEngineCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'iih-multi-engine-'));
  readonly runsFile = join(this.dir, 'tool-runs.jsonl');
  readonly nodes: EngineNode[] = [];
  private redis!: LocalService;
  private rabbit!: LocalService;

  /** `recoveryCron`: the orchestrator's recovery schedule (seconds first). */
  static async start(engines: number, { recoveryCron = '*/2 * * * * *' } = {}): Promise<MultiEngineCluster> {
    const cluster = new MultiEngineCluster();
    try {
      [cluster.redis, cluster.rabbit] = await Promise.all([startRedisServer(), startRabbitMq()]);
      const workerConfig = cluster.writeWorkerConfig(recoveryCron);
      const engineConfig = cluster.writeEngineConfig();
      for (let i = 0; i < engines; i++)
        cluster.nodes.push(await cluster.startNode(String.fromCharCode(97 + i), engineConfig, workerConfig));
      await Promise.all(cluster.nodes.map((node) => cluster.waitReady(node)));
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  /** The real engine's adapter entries, pointing at this cluster's Redis and RabbitMQ. */
  private writeEngineConfig(): string {
    const redis = `{ adapter: { name: redis, config: { redis_url: "${this.redis.url}" } } }`;
    const file = join(this.dir, 'config.yaml');
    writeFileSync(
      file,
      [
        'workers:',
        '  - name: iii-worker-manager',
        '  - name: iii-http',
        `  - name: iii-state\n    config: ${redis}`,
        `  - name: iii-stream\n    config: ${redis}`,
        `  - name: iii-pubsub\n    config: ${redis}`,
        `  - name: iii-cron\n    config: ${redis}`,
        `  - name: iii-queue\n    config: { adapter: { name: rabbitmq, config: { amqp_url: "${this.rabbit.url}" } } }`,
        '',
      ].join('\n'),
    );
    return file;
  }

  private writeWorkerConfig(recoveryCron: string): string {
    const policyFile = join(this.dir, 'iii-permissions.yaml');
    writeFileSync(policyFile, DEFAULT_POLICY);
    const file = join(this.dir, 'workers.yaml');
    writeFileSync(
      file,
      [
        'harness:',
        `  permissions_path: ${JSON.stringify(policyFile)}`,
        'turn-orchestrator:',
        '  coalesce_ms: 10',
        `  recovery_cron: ${JSON.stringify(recoveryCron)}`,
        '',
      ].join('\n'),
    );
    return file;
  }

  private async startNode(name: string, engineConfig: string, workerConfig: string): Promise<EngineNode> {
    const port = await freePort();
    const url = `ws://127.0.0.1:${port}`;
    const engine = spawnNode(`engine-${name}`, mainOf('dev-engine'), [
      '--config',
      engineConfig,
      '--port',
      String(port),
      '--http-port',
      '0',
      '--data-dir',
      join(this.dir, `data-${name}`),
      '--log-level',
      'warn',
    ]);
    const procs = [engine];
    const node: EngineNode = { name, url, client: undefined as unknown as TestClient, procs, alive: true };
    await eventually(
      () => {
        if (engine.child.exitCode !== null) throw new Error(`engine ${name} exited:\n${engine.tail()}`);
        return connectClient(url);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    ).then((client) => {
      node.client = client;
    });
    const env = { TOOLS_RUNS_FILE: this.runsFile };
    for (const { name: worker } of WORKERS) {
      // The chaos model (a pure function of the conversation, so either engine's copy answers alike)
      // and the tools process that logs every run to one file, both shared with the chaos suite.
      const script = worker === 'model' ? CHAOS_MODEL_MAIN : worker === 'tools' ? TOOLS_MAIN : mainOf(worker);
      procs.push(spawnNode(`${worker}-${name}`, script, ['--url', url, '--config', workerConfig], env));
    }
    return node;
  }

  /** Until every worker of the node has registered its functions on its engine. */
  async waitReady(node: EngineNode, timeoutMs = 120_000): Promise<void> {
    await eventually(
      async () => {
        for (const { ready } of WORKERS)
          await node.client.bus
            .call(contracts.engine.functionsInfo, { function_id: ready }, { timeoutMs: 5_000 })
            .catch(() => {
              throw new Error(`${ready} not registered on engine ${node.name} yet\n${this.tails(node)}`);
            });
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** kill -9 the engine and every worker attached to it. */
  async kill(node: EngineNode): Promise<void> {
    node.alive = false;
    await Promise.all(node.procs.map((p) => p.kill9()));
  }

  live(): EngineNode[] {
    return this.nodes.filter((node) => node.alive);
  }

  runs(): ToolRun[] {
    if (!existsSync(this.runsFile)) return [];
    return readFileSync(this.runsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ToolRun);
  }

  tails(node: EngineNode, lines = 5): string {
    return node.procs.map((p) => `--- ${p.name}\n${p.tail(lines)}`).join('\n');
  }

  async close(): Promise<void> {
    for (const node of this.nodes) await node.client?.close().catch(() => undefined);
    await Promise.all(this.nodes.flatMap((node) => node.procs.map((p) => p.kill9())));
    await Promise.all([this.redis?.stop(), this.rabbit?.stop()]);
  }
}
