import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  connectClient,
  eventually,
  scriptedContracts,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import {
  freePort,
  type Proc,
  SCRIPTED_PROVIDER_MAIN,
  spawnEngine,
  spawnNode,
  spawnWorker,
} from './helpers/processes.js';
import { call, DEFAULT_POLICY, toolsWorker } from './helpers/stack.js';

// 4. The engine and every harness worker are real processes, all killed with SIGKILL while a hold
// is pending, then restarted on the same data dir.
const dir = mkdtempSync(join(tmpdir(), 'iih-crash-all-'));
const dataDir = join(dir, 'data');
const configFile = join(dir, 'config.yaml');
const policyFile = join(dir, 'iii-permissions.yaml');
writeFileSync(policyFile, DEFAULT_POLICY);
writeFileSync(
  configFile,
  `harness:\n  permissions_path: ${JSON.stringify(policyFile)}\nturn-orchestrator:\n  coalesce_ms: 10\n`,
);
const WORKERS = ['session', 'harness', 'approval-gate', 'hook-fanout', 'turn-orchestrator'];

let port: number;
let url: string;
let procs: Proc[] = [];
let client: TestClient;
let tools: TestWorker<unknown>;
const runs: Array<{ function_id: string; input: unknown }> = [];

/** Until something accepts TCP connections on the port. */
async function waitForPort(target: number): Promise<void> {
  await eventually(
    () =>
      new Promise<void>((resolve, reject) => {
        const socket = connect(target, '127.0.0.1', () => {
          socket.end();
          resolve();
        });
        socket.on('error', reject);
      }),
    { timeoutMs: 15_000, intervalMs: 100 },
  );
}

async function startAll(): Promise<void> {
  procs = [spawnEngine(port, dataDir)];
  await waitForPort(port);
  procs.push(
    ...WORKERS.map((w) => spawnWorker(w, url, configFile)),
    spawnNode('scripted-provider', SCRIPTED_PROVIDER_MAIN, ['--url', url]),
  );
  client ??= await connectClient(url);
  await eventually(
    async () => {
      for (const id of [
        'session::append',
        'policy::check_permissions',
        'approval::resolve',
        'hook-fanout::publish_collect',
        'run::start',
        'provider::scripted::script',
      ]) {
        await client.bus.call(contracts.engine.functionsInfo, { function_id: id }).catch(() => {
          throw new Error(`${id} not registered yet\n${procs.map((p) => `--- ${p.name}\n${p.tail(5)}`).join('\n')}`);
        });
      }
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
}

async function killAll(): Promise<void> {
  await Promise.all(procs.map((p) => p.kill9()));
  procs = [];
}

beforeAll(async () => {
  port = await freePort();
  url = `ws://127.0.0.1:${port}`;
});

afterAll(async () => {
  await killAll();
  await client?.close();
  await tools?.shutdown();
});

it('4. a pending hold survives kill -9 of the engine and every worker; resolving it runs the call once', async () => {
  procs = [];
  await startAll();
  tools = await startTestWorker(toolsWorker(runs), { url });
  await client.bus.call(scriptedContracts.script('scripted'), {
    turns: [{ steps: [call('tools::held', { n: 1 }, 'held-1')] }],
  });
  const session_id = 'crash-all';
  await client.bus.call(contracts.session.ensure, { session_id });
  await client.bus.call(contracts.session.append, {
    session_id,
    entry: { type: 'message', message: { role: 'user', content: 'needs approval' } },
  });
  await client.bus.call(contracts.run.start, { session_id, provider: 'scripted', model: 'scripted-model' });
  await eventually(
    async () => expect((await client.bus.call(contracts.approval.listPending, { session_id })).pending).toHaveLength(1),
    { timeoutMs: 10_000 },
  );

  await killAll();
  await startAll();
  // Every client (this test's and the tools worker) reconnects by itself to the restarted engine.
  await eventually(
    async () =>
      expect(
        (
          await client.bus.call(contracts.approval.listPending, {
            session_id,
          })
        ).pending.map((p) => p.function_call_id),
      ).toEqual(['held-1']),
    { timeoutMs: 20_000 },
  );
  expect(await client.bus.call(contracts.turn.getState, { session_id })).toMatchObject({
    state: 'function_awaiting_approval',
  });
  await eventually(() => client.bus.call(contracts.engine.functionsInfo, { function_id: 'tools::held' }), {
    timeoutMs: 15_000,
  });

  await client.bus.call(scriptedContracts.script('scripted'), { turns: [{ steps: [{ text: 'approved and done' }] }] });
  await client.bus.call(contracts.approval.resolve, { session_id, function_call_id: 'held-1', decision: 'allow' });
  await eventually(
    async () =>
      expect(await client.bus.call(contracts.turn.getState, { session_id })).toMatchObject({
        state: 'stopped',
        outcome: 'stopped',
      }),
    { timeoutMs: 20_000 },
  );
  expect(runs).toEqual([{ function_id: 'tools::held', input: { n: 1 } }]);
  const { messages } = await client.bus.call(contracts.session.messages, {
    session_id,
  });
  expect(messages.map((m) => m.message.role)).toEqual(['user', 'assistant', 'function_result', 'assistant']);
}, 120_000);
