import { eventually, type ScriptedTurnInput, scriptedContracts } from '@iii-harness/testing';
import { contracts, type TurnView } from '@iii-harness/types';
import { Cluster } from './helpers/cluster.js';
import { agentEventsOf, call } from './helpers/stack.js';

// Issue 11's findings that need real processes: every process of the loop is its own, killed with
// SIGKILL or frozen with SIGSTOP (hung, not dead) at the moment each finding names.
jest.setTimeout(180_000);

let cluster: Cluster;
afterEach(async () => {
  const exits = cluster?.unexpectedExits ?? [];
  await cluster?.close();
  expect(exits).toEqual([]);
});

const bus = () => cluster.client.bus;
const script = (...turns: ScriptedTurnInput[]) => bus().call(scriptedContracts.script('scripted'), { turns });

async function startTurn(
  session_id: string,
  text: string,
  provider = 'scripted',
  model = 'scripted-model',
): Promise<string> {
  await bus().call(contracts.session.ensure, { session_id });
  await bus().call(contracts.session.append, {
    session_id,
    entry: { type: 'message', message: { role: 'user', content: text } },
  });
  const { turn_id } = await bus().call(contracts.run.start, { session_id, provider, model });
  return turn_id;
}

const state = (session_id: string) => bus().call(contracts.turn.getState, { session_id }, { timeoutMs: 3_000 });
const messages = async (session_id: string) => (await bus().call(contracts.session.messages, { session_id })).messages;
const completions = async (session_id: string) =>
  (await agentEventsOf(bus(), session_id)).filter((e) => e.type === 'turn_completed');

async function waitEnded(session_id: string, timeoutMs = 60_000): Promise<TurnView> {
  return eventually(
    async () => {
      const view = await state(session_id);
      if (view.state !== 'stopped' && view.state !== 'failed') throw new Error(`turn still ${view.state}`);
      return view;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

it('1. a step blocked on a hung harness and overtaken after an engine restart can neither run a tool nor end the turn', async () => {
  // Calls wait 15 s for an answer: long after the turn was driven to its end by another delivery.
  // The model is a pure function of the conversation (it answers the overtaking delivery the same).
  cluster = await Cluster.start({
    provider: 'chaos',
    config: { 'turn-orchestrator': { policy_timeout_ms: 15_000, provider_timeout_ms: 15_000 } },
  });
  cluster.pause('harness');
  const session_id = 'zombie-1';
  await startTurn(session_id, `chaos ${session_id}: calls=1 held=0`, 'chaos', 'chaos-model');
  // The delivery waits on the frozen harness (the provider asks it for its settings, the gate for the policy).
  await eventually(async () => expect((await state(session_id)).state).toBe('assistant_streaming'), {
    timeoutMs: 20_000,
  });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await cluster.kill('engine');
  await cluster.kill('harness');
  await cluster.startProcess('engine');
  await cluster.startProcess('harness');
  await cluster.waitReady(['session', 'approval-gate', 'turn-orchestrator', 'provider', 'tools']);
  expect(await waitEnded(session_id)).toMatchObject({ state: 'stopped', outcome: 'stopped' });
  expect(cluster.runs().map((r) => r.function_id)).toEqual(['tools::echo']);
  // The overtaken delivery's calls time out now; whatever it does next must change nothing.
  await new Promise((resolve) => setTimeout(resolve, 20_000));
  expect(cluster.runs()).toHaveLength(1);
  expect(await state(session_id)).toMatchObject({ state: 'stopped', outcome: 'stopped' });
  expect(await completions(session_id)).toHaveLength(1);
  const path = await messages(session_id);
  expect(path.map((m) => m.message.role)).toEqual(['user', 'assistant', 'function_result', 'assistant']);
  expect(path[2]!.message).toMatchObject({ is_error: false });
});

it('6. a decision made while the orchestrator is down is honoured once, and the hold is not made again', async () => {
  cluster = await Cluster.start();
  await script({ steps: [call('tools::held', { n: 1 }, 'h1')] }, { steps: [{ text: 'approved and done' }] });
  const session_id = 'orphan-1';
  await startTurn(session_id, 'needs approval');
  await eventually(
    async () => expect((await bus().call(contracts.approval.listPending, { session_id })).pending).toHaveLength(1),
    { timeoutMs: 20_000 },
  );
  await cluster.kill('turn-orchestrator');
  await bus().call(contracts.approval.resolve, { session_id, function_call_id: 'h1', decision: 'allow' });
  await cluster.startProcess('turn-orchestrator');
  expect(await waitEnded(session_id)).toMatchObject({ state: 'stopped', outcome: 'stopped' });
  expect(cluster.runs().map((r) => r.function_id)).toEqual(['tools::held']);
  expect((await bus().call(contracts.approval.listPending, { session_id })).pending).toEqual([]);
  // A late deny cannot take back the allow of a call that ran.
  expect(
    await bus().call(contracts.approval.resolve, { session_id, function_call_id: 'h1', decision: 'deny' }),
  ).toMatchObject({
    decision: 'allow',
    already_resolved: true,
  });
  expect(await completions(session_id)).toHaveLength(1);
});

it('6. a held call whose hold was never made (the orchestrator died in between) gets exactly one hold', async () => {
  cluster = await Cluster.start();
  await script({ steps: [call('tools::held', { n: 2 }, 'h2')] }, { steps: [{ text: 'approved and done' }] });
  const session_id = 'orphan-2';
  await startTurn(session_id, 'needs approval');
  await eventually(
    async () => expect((await state(session_id)).pending_approvals.map((p) => p.function_call_id)).toEqual(['h2']),
    { timeoutMs: 20_000 },
  );
  // As if the orchestrator had died after saving the call as held and before the gate got its hold.
  await cluster.kill('turn-orchestrator');
  await bus().call(contracts.engine.stateDelete, { scope: 'approval_pending', key: `${session_id}/h2` });
  expect((await bus().call(contracts.approval.listPending, { session_id })).pending).toEqual([]);
  await cluster.startProcess('turn-orchestrator');
  const pending = async () =>
    (await bus().call(contracts.approval.listPending, { session_id })).pending.map((p) => p.function_call_id);
  await eventually(async () => expect(await pending()).toEqual(['h2']), { timeoutMs: 30_000 });
  await bus().call(contracts.approval.resolve, { session_id, function_call_id: 'h2', decision: 'allow' });
  expect(await waitEnded(session_id)).toMatchObject({ state: 'stopped', outcome: 'stopped' });
  expect(cluster.runs().map((r) => r.function_id)).toEqual(['tools::held']);
  expect(await pending()).toEqual([]);
  expect(await completions(session_id)).toHaveLength(1);
});
