// Our side: the real agent loop in this process over real WebSockets. A dev engine on a file data
// dir (durable SQLite, like the peer's checkpointer file) and every worker of the loop, each with
// its own iii-sdk connection, exactly as packages/e2e assembles them; the scripted provider plays
// the shared script and a tools worker serves the instant tool.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approvalGateWorker } from '@iii-harness/approval-gate';
import { startEngine } from '@iii-harness/dev-engine';
import { harnessWorker } from '@iii-harness/harness';
import { hookFanoutWorker } from '@iii-harness/hook-fanout';
import { Bus, createLogger, EngineStreams, startWorker } from '@iii-harness/runtime';
import { sessionWorker } from '@iii-harness/session';
import { createScriptedProvider } from '@iii-harness/testing';
import { turnOrchestratorWorker } from '@iii-harness/turn-orchestrator';
import { AGENT_EVENTS_STREAM, contracts, jsonObject } from '@iii-harness/types';
import { registerWorker } from 'iii-sdk';
import { benchTool } from './contracts.mjs';
import { askText, FINAL_TEXT, makeTool, TOOL_ID, toolCallsFor } from './script.mjs';

const POLICY = `version: 1\nrules:\n  - ${TOOL_ID}\n`;

/** A worker serving the instant tool; `runs.count` counts its executions. */
function toolsWorker(runs) {
  const run = makeTool(runs);
  return {
    name: 'bench-tools',
    description: 'agent-loop bench: one instant tool',
    config: jsonObject,
    register(worker) {
      worker.function(benchTool, (input) => run(input));
    },
  };
}

/** Start the stack; resolves once every worker is registered. */
export async function startOurs({ dataDir }) {
  const engine = await startEngine({ port: 0, httpPort: 0, host: '127.0.0.1', dataDir, logLevel: 'silent' });
  const policyFile = join(dataDir, 'iii-permissions.yaml');
  writeFileSync(policyFile, POLICY);
  const provider = createScriptedProvider();
  const runs = { count: 0 };
  const url = engine.url;
  const start = (spec, config = {}) =>
    startWorker(spec, {
      url,
      config,
      otel: false,
      logger: createLogger({ worker: spec.name, level: 'silent' }),
      invocationTimeoutMs: 60_000,
    });
  const workers = [
    await start(sessionWorker),
    await start(harnessWorker, { permissions_path: policyFile }),
    await start(approvalGateWorker),
    await start(hookFanoutWorker),
    await start(provider.spec),
    await start(toolsWorker(runs)),
    // Production defaults (coalesce_ms 50: the coalescer flushes at the end of a stream, so the
    // window never delays a turn's end).
    await start(turnOrchestratorWorker),
  ];

  // The bench's own client: starts turns and learns of their end from one `stream` trigger on
  // agent::events (every session), dispatching turn_completed to the waiting turn.
  const client = registerWorker(url, {
    workerName: 'bench-client',
    otel: { enabled: false },
    enableMetricsReporting: false,
    invocationTimeoutMs: 60_000,
  });
  const bus = new Bus(client);
  const waiters = new Map();
  const probes = new Map();
  client.registerFunction('bench::on_agent_event', async (message) => {
    const item = message.event?.data;
    if (message.streamName === 'bench::probe') probes.get(message.id)?.(performance.now());
    else if (item?.type === 'turn_completed') waiters.get(message.groupId)?.(item);
    return {};
  });
  const subscribe = () =>
    client.registerTrigger({
      type: 'stream',
      function_id: 'bench::on_agent_event',
      config: { stream_name: AGENT_EVENTS_STREAM },
    });
  let subscription = subscribe();
  let mode = 'stream';
  // Only to price the waiting method: learn of turn_completed inside this process, right after
  // the orchestrator has written it, with no subscription (no bus traffic at all).
  const set = EngineStreams.prototype.set;
  EngineStreams.prototype.set = async function setAndNotify(stream, group, id, item) {
    const reply = await set.call(this, stream, group, id, item);
    if (mode === 'inprocess' && stream === AGENT_EVENTS_STREAM && item?.type === 'turn_completed')
      waiters.get(group)?.(item);
    return reply;
  };
  client.registerTrigger({
    type: 'stream',
    function_id: 'bench::on_agent_event',
    config: { stream_name: 'bench::probe' },
  });
  await bus.call(contracts.engine.functionsList, { prefix: '__ready__' });

  const names = new Map([...workers.map((w) => [w.client, w.name]), [client, 'bench client']]);
  let counter = 0;
  return {
    name: 'iii-harness',
    /** Which worker a Bus belongs to (for the --trace pass). */
    callerOf: (someBus) => names.get(someBus.client) ?? '?',
    runs,
    /** One turn on a fresh session: ensure, append the user message, run::start, wait for turn_completed. */
    async turn(n) {
      const sessionId = `ours-${++counter}`;
      const ask = askText(sessionId, n);
      const match = `session ${sessionId}:`;
      provider.script(
        {
          match,
          steps: toolCallsFor(n).map(({ id, args }) => ({
            tool_call: { id, name: 'agent_trigger', arguments: { function_id: TOOL_ID, payload: args } },
          })),
        },
        { match, steps: [{ text: FINAL_TEXT }] },
      );
      const ended = new Promise((resolve) => waiters.set(sessionId, resolve));
      const began = performance.now();
      await bus.call(contracts.session.ensure, { session_id: sessionId });
      await bus.call(contracts.session.append, {
        session_id: sessionId,
        entry: { type: 'message', message: { role: 'user', content: ask } },
      });
      await bus.call(contracts.run.start, { session_id: sessionId, provider: 'scripted', model: 'scripted-model' });
      const done = await ended;
      const ms = performance.now() - began;
      waiters.delete(sessionId);
      if (done.status !== 'stopped' || done.reason !== 'completed')
        throw new Error(
          `turn on ${sessionId} ended ${done.status} (${done.reason ?? ''}): ${JSON.stringify(done.error ?? {})}`,
        );
      return { ms, sessionId };
    },
    /** 'stream' (the default: a stream trigger on agent::events) or 'inprocess' (no subscription). */
    async setWaitMode(next) {
      if (next === mode) return;
      mode = next;
      if (mode === 'inprocess') subscription.unregister();
      else subscription = subscribe();
      await bus.call(contracts.engine.functionsList, { prefix: '__ready__' });
    },
    /** The session's messages (for the correctness check of a sample turn). */
    async roles(sessionId) {
      const { messages } = await bus.call(contracts.session.messages, { session_id: sessionId });
      return messages.map((m) => m.message.role);
    },
    /** The agent events of a session, by type (what a turn writes to agent::events). */
    async eventTypes(sessionId) {
      const items = await bus.call(contracts.engine.streamList, {
        stream_name: AGENT_EVENTS_STREAM,
        group_id: sessionId,
      });
      const counts = {};
      for (const item of items) counts[item.type] = (counts[item.type] ?? 0) + 1;
      return counts;
    },
    /** Cost of the waiting method: a stream write → the trigger reaching this client. */
    async probeNotify() {
      const id = `p${++counter}`;
      const arrived = new Promise((resolve) => probes.set(id, resolve));
      const began = performance.now();
      await bus.call(contracts.engine.streamSet, {
        stream_name: 'bench::probe',
        group_id: 'probe',
        item_id: id,
        data: { id },
      });
      const acked = performance.now();
      const at = await arrived;
      probes.delete(id);
      return { writeMs: acked - began, notifyMs: at - began };
    },
    async close() {
      await client.shutdown();
      for (const worker of workers.reverse()) await worker.shutdown();
      await engine.close();
    },
  };
}
