import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, scriptedContracts } from '@iii-harness/testing';
import { contracts, type SpanTreeNode } from '@iii-harness/types';
import { attr, flatten, render, TraceCluster } from './helpers/trace-cluster.js';

// Issue 18: one turn is one trace, from harness::send to turn_completed, across every worker, the
// turn-step queue, a person's approval and a restart of every process (engine included). The
// workers are real processes exporting their spans to a real dev engine, as in production.
jest.setTimeout(300_000);

const TOOLS_MAIN = join(__dirname, 'helpers', 'tools-main.mjs');
let cluster: TraceCluster;

beforeAll(async () => {
  cluster = await TraceCluster.start({
    tools: {
      main: TOOLS_MAIN,
      ready: 'tools::echo',
      env: { TOOLS_RUNS_FILE: join(tmpdir(), `iih-trace-runs-${process.pid}.jsonl`) },
    },
  });
});

afterAll(async () => {
  await cluster?.close();
});

const agentCall = (id: string, function_id: string, payload: Record<string, unknown>) => ({
  tool_call: { id, name: 'agent_trigger', arguments: { function_id, payload } },
});

/** Every trace the engine groups under the session, as trees. */
async function sessionTraces(sessionId: string): Promise<Map<string, SpanTreeNode[]>> {
  const { bus } = cluster.client;
  const { groups } = await bus.call(contracts.engine.tracesGroupBy, { attribute: 'iii.session.id', limit: 1000 });
  const group = groups.find((g) => g.value === sessionId);
  if (!group) throw new Error(`no trace group for session ${sessionId}`);
  const trees = new Map<string, SpanTreeNode[]>();
  for (const trace_id of group.trace_ids)
    trees.set(trace_id, (await bus.call(contracts.engine.tracesTree, { trace_id })).roots);
  return trees;
}

/** The trace whose root is the send. */
function sendTrace(trees: Map<string, SpanTreeNode[]>): { id: string; roots: SpanTreeNode[] } {
  for (const [id, roots] of trees) if (roots.some((r) => r.name === 'execute harness::send')) return { id, roots };
  throw new Error('no trace starts at harness::send');
}

it('a turn with a streamed answer and two calls, one approved after every process restarted, is one trace', async () => {
  const { bus } = cluster.client;
  const session_id = `trace-${Date.now()}`;
  await bus.call(scriptedContracts.script('scripted'), {
    turns: [
      {
        steps: [
          { text: 'Let me look.' },
          agentCall('echo-1', 'tools::echo', { n: 1 }),
          agentCall('held-1', 'tools::held', { n: 2 }),
        ],
        usage: { input: 11, output: 7 },
      },
    ],
  });
  await bus.call(contracts.harness.send, { session_id, text: 'hello', provider: 'scripted', model: 'scripted-model' });
  await eventually(
    async () => expect((await bus.call(contracts.approval.listPending, { session_id })).pending).toHaveLength(1),
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  const { turn_id } = await bus.call(contracts.turn.getState, { session_id });
  // What the turn did before parking has reached the engine (its spans end when the delivery does).
  await eventually(
    async () => {
      const spans = flatten(sendTrace(await sessionTraces(session_id)).roots);
      expect(spans.map((s) => s.name)).toEqual(
        expect.arrayContaining(['execute turn::provisioning', 'turn function_execute', 'execute tools::echo']),
      );
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );

  await cluster.restartAll();
  await bus.call(scriptedContracts.script('scripted'), { turns: [{ steps: [{ text: 'All done.' }] }] });
  await bus.call(contracts.approval.resolve, { session_id, function_call_id: 'held-1', decision: 'allow' });
  await eventually(
    async () => expect(await bus.call(contracts.turn.getState, { session_id })).toMatchObject({ state: 'stopped' }),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  let trees = new Map<string, SpanTreeNode[]>();
  await eventually(
    async () => {
      trees = await sessionTraces(session_id);
      const done = flatten(sendTrace(trees).roots).some((s) => s.events.some((e) => e.name === 'turn_completed'));
      expect(done).toBe(true);
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );

  const { id: traceId, roots } = sendTrace(trees);
  const spans = flatten(roots);
  const tree = render(roots);
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const parentName = (span: SpanTreeNode) => byId.get(span.parent_span_id ?? '')?.name;
  const all = (name: string) => spans.filter((s) => s.name === name);
  const one = (name: string, where: (s: SpanTreeNode) => boolean = () => true) => {
    const found = spans.filter((s) => s.name === name && where(s));
    if (found.length !== 1) throw new Error(`${found.length} spans ${name} in\n${tree}`);
    return found[0]!;
  };

  // Exactly one trace holds the turn: every span of any trace that names the turn is in it.
  const turnSpans = [...trees.values()].flatMap(flatten).filter((s) => attr(s, 'iii.turn.id') === turn_id);
  expect(new Set(turnSpans.map((s) => s.trace_id))).toEqual(new Set([traceId]));
  // One root, the send; baggage put the session and the user message on every span.
  expect(roots.map((r) => r.name)).toEqual(['execute harness::send']);
  const messageId = attr(roots[0]!, 'iii.message.id');
  expect(messageId).toBeTruthy();
  for (const span of spans) {
    expect([span.name, attr(span, 'iii.session.id')]).toEqual([span.name, session_id]);
    expect([span.name, attr(span, 'iii.message.id')]).toEqual([span.name, messageId]);
  }

  // The hops, each under the right parent.
  expect(parentName(one('execute run::start'))).toBe('execute harness::send');
  const firstDelivery = one('execute turn::provisioning');
  expect(parentName(firstDelivery)).toBe('execute run::start'); // queue-delivered
  const streaming = all('turn assistant_streaming');
  expect(streaming).toHaveLength(2);
  const chats = all('chat scripted-model');
  expect(chats).toHaveLength(2);
  for (const chat of chats) expect(parentName(chat)).toBe('execute provider::scripted::stream');
  expect(chats.map((c) => attr(c, 'gen_ai.usage.input_tokens'))).toContain('11');
  expect(chats.map((c) => attr(c, 'gen_ai.usage.output_tokens'))).toContain('7');
  const execute = one('turn function_execute');
  expect(parentName(execute)).toBe('execute turn::provisioning');
  const echo = one('execute_tool tools::echo');
  expect(parentName(echo)).toBe('turn function_execute');
  expect(attr(echo, 'gen_ai.tool.call.id')).toBe('echo-1');
  expect(parentName(one('execute tools::echo'))).toBe('execute_tool tools::echo');

  // The approval: from the hold to the person's decision, in the turn's trace, linked to the decision.
  expect(parentName(one('execute approval::hold'))).toBe('turn function_execute');
  const approval = one('approval tools::held');
  expect(parentName(approval)).toBe('execute approval::hold');
  expect(attr(approval, 'iii.approval.decision')).toBe('allow');
  expect(approval.links).toHaveLength(1);
  const decider = [...trees.values()].flatMap(flatten).find((s) => s.span_id === approval.links[0]!.span_id);
  expect(decider?.name).toBe('execute approval::resolve');
  expect(decider?.trace_id).not.toBe(traceId);
  // The wake-up continues under the decision, after the restart.
  const wake = one('execute turn::function_awaiting_approval', (s) => parentName(s) === 'approval tools::held');
  const wakeStep = one('turn function_awaiting_approval', (s) => s.parent_span_id === wake.span_id);
  const held = one('execute_tool tools::held');
  expect(held.parent_span_id).toBe(wakeStep.span_id);
  expect(parentName(one('execute tools::held'))).toBe('execute_tool tools::held');
  // The start-up recovery after the restart kicked the parked turn: its job stays in the trace too.
  expect(
    all('execute turn::function_awaiting_approval').filter((s) => parentName(s) === 'execute run::start').length,
  ).toBeGreaterThanOrEqual(1);
  // The turn ends in the trace, after the answer was streamed.
  const last = spans.find((s) => s.events.some((e) => e.name === 'turn_completed'))!;
  expect(attr(last, 'iii.turn.outcome')).toBe('stopped');
  expect(byId.get(last.parent_span_id ?? '')?.parent_span_id).toBe(approval.span_id);
  const failed = spans.filter((s) => s.status === 'error');
  expect(failed.map((s) => `${s.name}: ${s.status_description} ${JSON.stringify(s.attributes)}`)).toEqual([]);
});
