// Our side as production runs it: the dev engine and every worker each in its own process (the
// packages' built `dist/main.js`), the model (lib/model-main.mjs, the shared script as a provider)
// and the tool (lib/tools-main.mjs) too. The bench's client is the only thing in this process.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bus } from '@iii-harness/runtime';
import { AGENT_EVENTS_STREAM, contracts } from '@iii-harness/types';
import { registerWorker } from 'iii-sdk';
import { benchRuns } from './contracts.mjs';
import { askText, FINAL_TEXT, TOOL_ID } from './script.mjs';

const PACKAGES = fileURLToPath(new URL('../../../packages/', import.meta.url));
const LIB = fileURLToPath(new URL('./', import.meta.url));
const WORKERS = ['session', 'harness', 'approval-gate', 'hook-fanout', 'turn-orchestrator'];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return port;
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Resident memory of a process, from /proc (Linux). */
export function rssOf(pid) {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** `traced`: every worker exports its spans to the engine (OTel on, as iii-sdk defaults), to price tracing. */
export async function startOursProcesses({ dataDir, label = 'iii-harness, one process per worker', traced = false }) {
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  const policy = join(dataDir, 'iii-permissions.yaml');
  writeFileSync(policy, `version: 1\nrules:\n  - ${TOOL_ID}\n`);
  const config = join(dataDir, 'config.yaml');
  writeFileSync(config, `harness:\n  permissions_path: ${JSON.stringify(policy)}\n`);
  const env = { ...process.env, OTEL_ENABLED: traced ? 'true' : 'false', LOG_LEVEL: 'warn' };
  const children = [];
  const start = (name, script, args) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', () => {});
    children.push({ name, child });
    return child;
  };
  start('engine', join(PACKAGES, 'dev-engine/dist/main.js'), [
    '--port',
    String(port),
    '--http-port',
    '0',
    '--data-dir',
    join(dataDir, 'engine'),
    '--log-level',
    'warn',
  ]);
  const args = ['--url', url, '--config', config];
  for (const w of WORKERS) start(w, join(PACKAGES, w, 'dist/main.js'), args);
  start('model', join(LIB, 'model-main.mjs'), args);
  start('tools', join(LIB, 'tools-main.mjs'), args);

  for (let i = 0; !(await canConnect(port)); i++) {
    if (i > 300) throw new Error('the engine did not start');
    await sleep(100);
  }
  const client = registerWorker(url, {
    workerName: 'bench-client',
    otel: { enabled: false },
    enableMetricsReporting: false,
    invocationTimeoutMs: 60_000,
  });
  const bus = new Bus(client);
  for (let i = 0; ; i++) {
    const ready = await Promise.all(
      ['run::start', 'provider::bench::stream', TOOL_ID, 'approval::resolve', 'session::append'].map((id) =>
        bus.call(contracts.engine.functionsInfo, { function_id: id }, { timeoutMs: 2_000 }).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (ready.every(Boolean)) break;
    if (i > 600) throw new Error('the production topology did not come up');
    await sleep(100);
  }
  const waiters = new Map();
  client.registerFunction('bench::on_agent_event', async (message) => {
    const item = message.event?.data;
    if (item?.type === 'turn_completed') waiters.get(message.groupId)?.(item);
    return {};
  });
  client.registerTrigger({
    type: 'stream',
    function_id: 'bench::on_agent_event',
    config: { stream_name: AGENT_EVENTS_STREAM },
  });
  await bus.call(contracts.engine.functionsList, { prefix: '__ready__' });

  let counter = 0;
  const runs = { count: 0 };
  const system = {
    name: label,
    runs,
    /** Start a turn on a fresh session; `held` makes its call wait for a person (the turn parks). */
    async begin(n, { held = false, sessionId = `procs-${++counter}` } = {}) {
      await bus.call(contracts.session.ensure, { session_id: sessionId });
      await bus.call(contracts.session.append, {
        session_id: sessionId,
        entry: {
          type: 'message',
          message: { role: 'user', content: `${askText(sessionId, n)}${held ? ' held' : ''}` },
        },
      });
      await bus.call(contracts.run.start, { session_id: sessionId, provider: 'bench', model: 'bench-model' });
      return sessionId;
    },
    async turn(n) {
      const sessionId = `procs-${++counter}`;
      const ended = new Promise((resolve) => waiters.set(sessionId, resolve));
      const began = performance.now();
      await system.begin(n, { sessionId });
      const done = await ended;
      const ms = performance.now() - began;
      waiters.delete(sessionId);
      if (done.status !== 'stopped') throw new Error(`turn on ${sessionId} ended ${done.status}: ${done.reason}`);
      return { ms, sessionId };
    },
    /** The tool's run count lives in its process: fetched when the checks need it. */
    async syncRuns() {
      runs.count = (await bus.call(benchRuns, {})).count;
    },
    async roles(sessionId) {
      const { messages } = await bus.call(contracts.session.messages, { session_id: sessionId });
      if (messages.at(-1)?.message.content?.[0]?.text !== FINAL_TEXT) return ['(no final text)'];
      return messages.map((m) => m.message.role);
    },
    async pendingCount() {
      return (await bus.call(contracts.approval.listPending, {})).pending.length;
    },
    /** Resident memory of every process of the topology (not the bench itself). */
    rss: () => children.reduce((sum, { child }) => sum + rssOf(child.pid), 0),
    rssByProcess: () => Object.fromEntries(children.map(({ name, child }) => [name, rssOf(child.pid)])),
    async close() {
      await client.shutdown();
      for (const { child } of children.reverse()) child.kill('SIGTERM');
      await sleep(500);
      for (const { child } of children) child.kill('SIGKILL');
    },
  };
  return system;
}

/**
 * Idle memory: `count` sessions, each with a turn parked on a call that waits for a person, then
 * the resident memory of every process once things settled.
 */
export async function measureParked(system, count, { batch = 50 } = {}) {
  const before = system.rss();
  for (let i = 0; i < count; i += batch)
    await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => system.begin(1, { held: true })));
  for (let i = 0; (await system.pendingCount()) < count; i++) {
    if (i > 1200) throw new Error('the turns did not all park');
    await sleep(500);
  }
  await sleep(3_000);
  return { sessions: count, rssBefore: before, rssAfter: system.rss(), byProcess: system.rssByProcess() };
}
