import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approvalGateWorker } from '@iii-harness/approval-gate';
import { harnessWorker } from '@iii-harness/harness';
import { hookFanoutWorker } from '@iii-harness/hook-fanout';
import type { Bus, Handler, WorkerSpec } from '@iii-harness/runtime';
import { sessionWorker } from '@iii-harness/session';
import {
  collectStream,
  connectClient,
  createScriptedProvider,
  type DevEngine,
  eventually,
  type ScriptedProvider,
  type ScriptedTurn,
  type StreamCollector,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { turnOrchestratorWorker } from '@iii-harness/turn-orchestrator';
import { AGENT_EVENTS_STREAM, type AgentEvent, contract, contracts, type Message } from '@iii-harness/types';
import { z } from 'zod';

export const DEFAULT_POLICY = `
version: 1
rules:
  - tools::echo
  - tools::count
  - tools::slow
  - '!tools::forbidden'
  # tools::held and anything else: needs approval
`;

/** A test tool's contract: it lives with the tests, not in the production catalogue. */
const toolContract = (name: string) =>
  contract({
    id: `tools::${name}`,
    description: `test tool ${name}`,
    input: z.record(z.string(), z.unknown()),
    output: z.unknown(),
  });

type ToolContract = ReturnType<typeof toolContract>;

/** Functions the model calls in these tests; every run is recorded. */
export function toolsWorker(runs: Array<{ function_id: string; input: unknown }>): WorkerSpec<unknown> {
  const tool = (
    name: string,
    handler: (input: Record<string, unknown>) => Promise<unknown> | unknown,
  ): [ToolContract, Handler<ToolContract>] => [
    toolContract(name),
    async (input) => {
      runs.push({ function_id: `tools::${name}`, input });
      return handler(input);
    },
  ];
  return {
    name: 'tools',
    description: 'test tools',
    config: z.object({}),
    register(worker) {
      worker.function(...tool('echo', (input) => ({ echoed: input })));
      worker.function(...tool('count', () => ({ count: runs.filter((r) => r.function_id === 'tools::count').length })));
      worker.function(...tool('held', (input) => ({ held_ran: input })));
      worker.function(...tool('forbidden', () => ({ should: 'never run' })));
      worker.function(
        ...tool('slow', async (input) => {
          await new Promise((resolve) => setTimeout(resolve, Number(input.ms ?? 1_000)));
          return { slept: input.ms };
        }),
      );
    },
  };
}

export interface Stack {
  engine: DevEngine;
  client: TestClient;
  provider: ScriptedProvider;
  runs: Array<{ function_id: string; input: unknown }>;
  workers: Record<string, TestWorker<any>>;
  policyFile: string;
  /** Start a turn on a fresh session with one user message; returns the session and turn ids. */
  start(
    text: string,
    options?: { session_id?: string; max_turns?: number },
  ): Promise<{ session_id: string; turn_id: string }>;
  events(sessionId: string): StreamCollector<AgentEvent>;
  waitForEnd(sessionId: string, timeoutMs?: number): Promise<AgentEvent & { type: 'turn_completed' }>;
  messages(sessionId: string): Promise<Array<{ entry_id: string; message: Message }>>;
  stopWorker(name: string): Promise<void>;
  close(): Promise<void>;
}

let sessionCounter = 0;

/** The whole agent loop on one dev engine, every worker in this process. */
export async function startStack(
  options: {
    turns?: ScriptedTurn[];
    policy?: string;
    orchestrator?: Record<string, unknown>;
    approval?: Record<string, unknown>;
    /** Config of the scripted provider worker (provider-kit's, e.g. `settings_ttl_ms`). */
    provider?: Record<string, unknown>;
    hooks?: Record<string, unknown>;
    without?: string[];
    /** More workers in this process, started after the base ones (context-compaction, llm-budget, ...). */
    extra?: Record<string, { spec: WorkerSpec<any>; config?: Record<string, unknown> }>;
  } = {},
): Promise<Stack> {
  const engine = await startDevEngine();
  const dir = mkdtempSync(join(tmpdir(), 'iih-e2e-'));
  const policyFile = join(dir, 'iii-permissions.yaml');
  writeFileSync(policyFile, options.policy ?? DEFAULT_POLICY);
  const provider = createScriptedProvider({ turns: options.turns ?? [] });
  const runs: Stack['runs'] = [];
  const url = engine.url;
  const workers: Record<string, TestWorker<any>> = {
    session: await startTestWorker(sessionWorker, { url }),
    harness: await startTestWorker(harnessWorker, {
      url,
      config: { permissions_path: policyFile, default_provider: 'scripted', default_model: 'scripted-model' },
    }),
    approval: await startTestWorker(approvalGateWorker, { url, config: options.approval ?? {} }),
    hooks: await startTestWorker(hookFanoutWorker, { url, config: options.hooks ?? {} }),
    provider: await startTestWorker(provider.spec, { url, config: options.provider ?? {} }),
    tools: await startTestWorker(toolsWorker(runs), { url }),
  };
  for (const [name, { spec, config }] of Object.entries(options.extra ?? {}))
    workers[name] = await startTestWorker(spec, { url, config: config ?? {} });
  if (!options.without?.includes('orchestrator'))
    workers.orchestrator = await startTestWorker(turnOrchestratorWorker, {
      url,
      config: { coalesce_ms: 10, ...options.orchestrator },
    });
  const client = await connectClient(url);
  const collectors: StreamCollector<AgentEvent>[] = [];

  const stack: Stack = {
    engine,
    client,
    provider,
    runs,
    workers,
    policyFile,
    async start(text, { session_id = `e2e-${process.pid}-${++sessionCounter}`, max_turns } = {}) {
      await client.bus.call(contracts.session.ensure, { session_id });
      await client.bus.call(contracts.session.append, {
        session_id,
        entry: { type: 'message', message: { role: 'user', content: text } },
      });
      const { turn_id } = await client.bus.call(contracts.run.start, {
        session_id,
        provider: 'scripted',
        model: 'scripted-model',
        ...(max_turns ? { max_turns } : {}),
      });
      return { session_id, turn_id };
    },
    events(sessionId) {
      const collector = collectStream<AgentEvent>(client.client, AGENT_EVENTS_STREAM, sessionId);
      collectors.push(collector);
      return collector;
    },
    async waitForEnd(sessionId, timeoutMs = 15_000) {
      return eventually(
        async () => {
          const view = await client.bus.call(contracts.turn.getState, { session_id: sessionId });
          if (view.state !== 'stopped' && view.state !== 'failed') throw new Error(`turn still ${view.state}`);
          const items = await agentEventsOf(client.bus, sessionId);
          const done = items.filter((e) => e.type === 'turn_completed');
          if (done.length === 0) throw new Error('no turn_completed yet');
          return done[done.length - 1] as AgentEvent & { type: 'turn_completed' };
        },
        { timeoutMs, intervalMs: 50 },
      );
    },
    async messages(sessionId) {
      return (await client.bus.call(contracts.session.messages, { session_id: sessionId })).messages;
    },
    async stopWorker(name) {
      await workers[name]!.shutdown();
      delete workers[name];
    },
    async close() {
      for (const c of collectors) c.stop();
      await client.close();
      for (const worker of Object.values(workers).reverse()) await worker.shutdown();
      await engine.close();
    },
  };
  return stack;
}

/**
 * The agent events stored for a session, unordered. The engine's `stream::list` reply says only
 * "a list"; what the items are is the agent-events stream's shape, so they are read as that.
 */
export async function agentEventsOf(bus: Bus, sessionId: string): Promise<AgentEvent[]> {
  const items = await bus.call(contracts.engine.streamList, {
    stream_name: AGENT_EVENTS_STREAM,
    group_id: sessionId,
  });
  return (items ?? []) as AgentEvent[];
}

/** Agent events of a session, in sequence order. */
export async function agentEvents(stack: Stack, sessionId: string): Promise<AgentEvent[]> {
  const items = await agentEventsOf(stack.client.bus, sessionId);
  return [...items].sort((a, b) => a.seq - b.seq);
}

export const call = (name: string, args: Record<string, unknown>, id?: string) => ({
  tool_call: { ...(id ? { id } : {}), name: 'agent_trigger', arguments: { function_id: name, payload: args } },
});
