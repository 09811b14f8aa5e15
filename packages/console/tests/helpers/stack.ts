import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, startWorker, type Worker, type WorkerSpec } from '@iii-harness/runtime';
import { connectClient, eventually, type ScriptedTurnInput, type TestClient } from '@iii-harness/testing';
import { AGENT_EVENTS_STREAM, type AgentEvent, contract, contracts } from '@iii-harness/types';
import { z } from 'zod';
import { freePort, mainOf, type Proc, spawnNode, waitForPort } from './processes.js';

/** What agents may call in these tests: tools::echo runs at once, tools::held needs a person. */
export const POLICY = `
version: 1
rules:
  - tools::echo
  - '!tools::forbidden'
`;

/** The harness workers, each its own process (a worker package never imports another). */
export const WORKERS = [
  'session',
  'models-catalog',
  'auth-credentials',
  'harness',
  'approval-gate',
  'hook-fanout',
  'turn-orchestrator',
  'context-compaction',
  'llm-budget',
] as const;

const FUNCTIONS_UP = [
  contracts.session.tree.id,
  contracts.models.list.id,
  contracts.auth.status.id,
  contracts.harness.send.id,
  contracts.approval.resolve.id,
  contracts.run.start.id,
  'provider::scripted::script',
  contracts.console.status.id,
  contracts.budget.list.id,
];

export interface ToolRun {
  function_id: string;
  input: unknown;
}

const toolContract = (name: string) =>
  contract({
    id: `tools::${name}`,
    description: `test tool ${name}`,
    input: z.record(z.string(), z.unknown()),
    output: z.unknown(),
  });

/** Functions the scripted model calls; every run is recorded (a held call must run exactly once). */
export function toolsWorker(runs: ToolRun[]): WorkerSpec<unknown> {
  return {
    name: 'tools',
    description: 'test tools',
    config: z.object({}),
    register(worker) {
      for (const name of ['echo', 'held', 'forbidden'])
        worker.function(toolContract(name), (input) => {
          runs.push({ function_id: `tools::${name}`, input });
          return { ok: true, tool: name, input };
        });
    },
  };
}

export interface Stack {
  engineUrl: string;
  consoleUrl: string;
  consolePort: number;
  dir: string;
  client: TestClient;
  runs: ToolRun[];
  procs: Proc[];
  console(): Proc;
  startAll(): Promise<void>;
  killAll(): Promise<void>;
  /** Start the engine again (same port, same data); every worker reconnects by itself. */
  restartEngine(): Promise<void>;
  /** SIGKILL the scripted provider (its script goes with it). */
  killProvider(): Promise<void>;
  /** Start the scripted provider again (answering `fallback` when unscripted); resolves once it is back. */
  startProvider(fallback?: string): Promise<void>;
  script(...turns: ScriptedTurnInput[]): Promise<void>;
  requests(): Promise<Array<{ model: string; messages: unknown[] }>>;
  agentEvents(sessionId: string): Promise<AgentEvent[]>;
  close(): Promise<void>;
}

/**
 * The whole stack as real processes on one data dir: the dev engine, every harness worker, the
 * scripted provider and the console; the test's tools worker and client run in this process
 * (iii-sdk reconnects them by itself when the engine restarts). `killAll` + `startAll` is
 * "kill -9 every process and start them again".
 */
export async function startStack(options: { consoleArgs?: string[]; otel?: boolean } = {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'iih-console-'));
  const policy = join(dir, 'iii-permissions.yaml');
  writeFileSync(policy, POLICY);
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'harness:',
      `  permissions_path: ${JSON.stringify(policy)}`,
      '  default_provider: scripted',
      '  default_model: scripted-small',
      'turn-orchestrator:',
      '  coalesce_ms: 20',
      '  unavailable_wait_ms: 120000',
      'auth-credentials:',
      `  store_path: ${JSON.stringify(join(dir, 'credentials.json'))}`,
      '',
    ].join('\n'),
  );
  const enginePort = await freePort();
  const consolePort = await freePort();
  const engineUrl = `ws://127.0.0.1:${enginePort}`;
  const runs: ToolRun[] = [];
  let client: TestClient | undefined;
  let tools: Worker<unknown> | undefined;

  // Spans go to the engine only when asked: exporting them costs every worker some CPU.
  const otelEnv = options.otel ? { OTEL_ENABLED: 'true' } : {};
  const spawnEngine = () =>
    spawnNode('engine', mainOf('dev-engine'), [
      '--port',
      String(enginePort),
      '--http-port',
      '0',
      '--data-dir',
      join(dir, 'data'),
      '--log-level',
      'warn',
    ]);
  const spawnProvider = (fallback?: string) =>
    spawnNode('scripted-provider', join(__dirname, 'scripted-provider.mjs'), ['--url', engineUrl], {
      ...otelEnv,
      ...(fallback ? { SCRIPTED_FALLBACK_TEXT: fallback } : {}),
    });
  /** Until every function the tests need is registered (workers come back one by one). */
  const waitForFunctions = () =>
    eventually(
      async () => {
        const { functions } = await client!.bus.call(contracts.engine.functionsList, { include_internal: true });
        const ids = new Set(functions.map((f) => f.function_id));
        const missing = [...FUNCTIONS_UP, 'tools::held'].filter((id) => !ids.has(id));
        if (missing.length)
          throw new Error(
            `not registered yet: ${missing.join(', ')}\n${stack.procs.map((p) => `--- ${p.name}\n${p.tail(6)}`).join('\n')}`,
          );
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

  const stack: Stack = {
    engineUrl,
    consolePort,
    consoleUrl: `http://127.0.0.1:${consolePort}`,
    dir,
    runs,
    procs: [],
    get client() {
      return client!;
    },
    console() {
      return stack.procs.find((p) => p.name === 'console')!;
    },
    async startAll() {
      stack.procs = [spawnEngine()];
      await waitForPort(enginePort);
      stack.procs.push(
        ...WORKERS.map((w) => spawnNode(w, mainOf(w), ['--url', engineUrl, '--config', config], otelEnv)),
        spawnProvider(),
        spawnNode(
          'console',
          mainOf('console'),
          ['--url', engineUrl, '--port', String(consolePort), '--log-level', 'info', ...(options.consoleArgs ?? [])],
          { LOG_LEVEL: 'info' },
        ),
      );
      client ??= await connectClient(engineUrl);
      // In this process; with `otel` its spans go to the engine like every other worker's.
      tools ??= await startWorker(toolsWorker(runs), {
        url: engineUrl,
        otel: options.otel ?? false,
        logger: createLogger({ worker: 'tools', level: 'silent' }),
      });
      await waitForFunctions();
      await client!.bus.invoke('provider::scripted::refresh_models', {}, { timeoutMs: 20_000 });
      await waitForPort(consolePort);
    },
    async restartEngine() {
      stack.procs = [spawnEngine(), ...stack.procs.filter((p) => p.name !== 'engine')];
      await waitForPort(enginePort);
      await waitForFunctions();
    },
    async killProvider() {
      await stack.procs.find((p) => p.name === 'scripted-provider')?.kill9();
      stack.procs = stack.procs.filter((p) => p.name !== 'scripted-provider');
    },
    async startProvider(fallback) {
      stack.procs.push(spawnProvider(fallback));
      await waitForFunctions();
      await client!.bus.invoke('provider::scripted::refresh_models', {}, { timeoutMs: 20_000 });
    },
    async killAll() {
      await Promise.all(stack.procs.map((p) => p.kill9()));
      stack.procs = [];
    },
    async script(...turns) {
      await client!.bus.invoke('provider::scripted::script', { turns });
    },
    async requests() {
      const out = (await client!.bus.invoke('provider::scripted::requests', {})) as {
        requests: Array<{ model: string; messages: unknown[] }>;
      };
      return out.requests;
    },
    async agentEvents(sessionId) {
      const items = (await client!.bus.call(contracts.engine.streamList, {
        stream_name: AGENT_EVENTS_STREAM,
        group_id: sessionId,
      })) as AgentEvent[] | null;
      return [...(items ?? [])].sort((a, b) => a.seq - b.seq);
    },
    async close() {
      await tools?.shutdown().catch(() => undefined);
      await client?.close().catch(() => undefined);
      await Promise.all(stack.procs.map((p) => p.stop()));
    },
  };
  await stack.startAll();
  return stack;
}

/** A scripted turn that calls a function through agent_trigger. */
export const callStep = (functionId: string, payload: Record<string, unknown>, id: string) => ({
  tool_call: { id, name: 'agent_trigger', arguments: { function_id: functionId, payload } },
});
