import { createHash } from 'node:crypto';
import { eventually, startTestWorker } from '@iii-harness/testing';
import { AGENT_EVENTS_STREAM, contracts, type Message, TURN_STEP_QUEUE } from '@iii-harness/types';
import { agentEvents, agentEventsOf, call, type Stack, startStack } from './helpers/stack.js';

// Issue 11's findings that need no process killed: each test fails when its guarantee is broken.
let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

type Path = Array<{ entry_id: string; message: Message }>;

/** Every function call of every assistant message has exactly one result, in the transcript. */
function expectEveryCallAnswered(messages: Path): void {
  const calls = messages.flatMap((m) =>
    m.message.role === 'assistant' ? m.message.content.flatMap((b) => (b.type === 'function_call' ? [b.id] : [])) : [],
  );
  const results = messages.flatMap((m) => (m.message.role === 'function_result' ? [m.message.function_call_id] : []));
  expect(results.sort()).toEqual(calls.sort());
}

describe('a provider briefly away', () => {
  it('is waited for — the turn says so — and the turn completes once it is back', async () => {
    stack = await startStack({
      turns: [{ steps: [call('tools::echo', { n: 1 }, 'p1')] }, { steps: [{ text: 'done after the restart' }] }],
    });
    await stack.stopWorker('provider');
    const { session_id } = await stack.start('the provider is restarting');
    await eventually(
      async () => expect((await agentEvents(stack, session_id)).map((e) => e.type)).toContain('turn_waiting'),
      { timeoutMs: 10_000 },
    );
    stack.workers.provider = await startTestWorker(stack.provider.spec, { url: stack.engine.url });
    expect(await stack.waitForEnd(session_id, 30_000)).toMatchObject({ status: 'stopped', reason: 'completed' });
    const waiting = (await agentEvents(stack, session_id)).find((e) => e.type === 'turn_waiting');
    expect(waiting).toMatchObject({ function_id: 'provider::scripted::stream' });
    expect(stack.runs).toHaveLength(1);
    expect((await stack.messages(session_id)).map((m) => m.message.role)).toEqual([
      'user',
      'assistant',
      'function_result',
      'assistant',
    ]);
  });

  it('is no longer waited for once the turn is aborted: the turn ends aborted', async () => {
    stack = await startStack();
    await stack.stopWorker('provider');
    const { session_id } = await stack.start('abort while waiting');
    await eventually(
      async () => expect((await agentEvents(stack, session_id)).map((e) => e.type)).toContain('turn_waiting'),
      { timeoutMs: 10_000 },
    );
    await stack.client.bus.call(contracts.run.abort, { session_id });
    expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'aborted' });
  });

  it('fails the turn with a clear reason when it stays away past the bound', async () => {
    stack = await startStack({ orchestrator: { unavailable_wait_ms: 500 } });
    await stack.stopWorker('provider');
    const { session_id } = await stack.start('nobody answers');
    const done = await stack.waitForEnd(session_id, 15_000);
    expect(done).toMatchObject({ status: 'failed' });
    expect(done.reason).toMatch(/provider::scripted::stream was not available for 500 ms/);
  });
});

describe('abort leaves a valid transcript', () => {
  it('mid-batch: the running call keeps its result, the next one is "aborted before it ran"', async () => {
    stack = await startStack({
      turns: [{ steps: [call('tools::slow', { ms: 800 }, 'b1'), call('tools::echo', { n: 2 }, 'b2')] }],
    });
    const { session_id } = await stack.start('two calls');
    await eventually(() => expect(stack.runs.map((r) => r.function_id)).toEqual(['tools::slow']), {
      timeoutMs: 10_000,
    });
    await stack.client.bus.call(contracts.run.abort, { session_id });
    expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'aborted' });
    const messages = await stack.messages(session_id);
    expectEveryCallAnswered(messages);
    const results = messages.filter((m) => m.message.role === 'function_result').map((m) => m.message);
    expect(results).toMatchObject([
      { function_call_id: 'b1', is_error: false },
      {
        function_call_id: 'b2',
        is_error: true,
        content: [{ text: expect.stringMatching(/^aborted: .* before this call ran$/) }],
      },
    ]);
    expect(stack.runs.map((r) => r.function_id)).toEqual(['tools::slow']);
  });

  it('while the second call of a message is streaming: every call that arrived gets a result', async () => {
    stack = await startStack({
      turns: [
        {
          steps: [call('tools::echo', { n: 1 }, 's1'), call('tools::echo', { n: 2 }, 's2')],
          split: 12,
          delay_ms: 40,
        },
      ],
    });
    const { session_id } = await stack.start('stream two calls slowly');
    await eventually(
      async () =>
        expect(
          (await agentEvents(stack, session_id)).some(
            (e) => e.type === 'message_update' && e.function_call_id === 's2',
          ),
        ).toBe(true),
      { timeoutMs: 10_000 },
    );
    await stack.client.bus.call(contracts.run.abort, { session_id });
    expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'aborted' });
    const messages = await stack.messages(session_id);
    expect(messages.filter((m) => m.message.role === 'assistant')).toHaveLength(1);
    expectEveryCallAnswered(messages);
    expect(stack.runs).toEqual([]);
  });
});

it('a retried send whose first try reached the transcript stores its message once', async () => {
  stack = await startStack({
    turns: [{ steps: [call('tools::slow', { ms: 800 }, 'r1')] }, { steps: [{ text: 'answered once' }] }],
  });
  const session_id = 'retried-send';
  const key = 'client-message-7';
  // The first try appended the message under the send's entry id and started the turn, then its
  // reply was lost (the harness died before it stored the answer): the client sends again.
  const entryId = `send:${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
  await stack.client.bus.call(contracts.session.ensure, { session_id });
  await stack.client.bus.call(contracts.session.append, {
    session_id,
    entry_id: entryId,
    entry: { type: 'message', message: { role: 'user', content: 'run the slow tool' } },
  });
  await stack.client.bus.call(contracts.run.start, { session_id, provider: 'scripted', model: 'scripted-model' });
  await eventually(() => expect(stack.runs).toHaveLength(1), { timeoutMs: 10_000 });
  const retry = await stack.client.bus.call(contracts.harness.send, {
    session_id,
    text: 'run the slow tool',
    idempotency_key: key,
  });
  expect(retry).toMatchObject({ merged: true });
  expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'stopped' });
  const users = (await stack.messages(session_id)).filter((m) => m.message.role === 'user');
  expect(users.map((m) => m.entry_id)).toEqual([entryId]);
});

it('a turn_completed lost between the terminal save and its write is written exactly once by the next delivery', async () => {
  stack = await startStack({ turns: [{ steps: [{ text: 'over' }] }] });
  const { session_id, turn_id } = await stack.start('end');
  const done = await stack.waitForEnd(session_id);
  const items = async () =>
    (await agentEventsOf(stack.client.bus, session_id)).filter((e) => e.type === 'turn_completed');
  // As if the process died after the terminal save, before the event left.
  await stack.client.bus.call(contracts.engine.streamDelete, {
    stream_name: AGENT_EVENTS_STREAM,
    group_id: session_id,
    item_id: String(done.seq).padStart(12, '0'),
  });
  expect(await items()).toEqual([]);
  // The queue delivers the job again (it was never acknowledged), and again (a duplicate).
  for (let i = 0; i < 2; i++)
    await stack.client.bus.enqueue(TURN_STEP_QUEUE.queue, contracts.turn.steeringCheck, {
      session_id,
      turn_id,
      step: 3,
    });
  await eventually(async () => expect(await items()).toHaveLength(1), { timeoutMs: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const [again] = await items();
  expect(await items()).toHaveLength(1);
  expect(again).toMatchObject({ seq: done.seq, status: 'stopped', reason: 'completed' });
});

it('a late job of an ended turn, delivered while the next turn runs, does not stall that turn', async () => {
  stack = await startStack({
    turns: [
      { steps: [{ text: 'first answer' }] },
      { steps: [call('tools::slow', { ms: 1_000 }, 'late-1')] },
      { steps: [{ text: 'second answer' }] },
    ],
  });
  const { session_id, turn_id: first } = await stack.start('first');
  await stack.waitForEnd(session_id);
  const { turn_id: second } = await stack.start('second', { session_id });
  await eventually(() => expect(stack.runs).toHaveLength(1), { timeoutMs: 10_000 });
  // A job of the first turn delivered while the second turn's delivery waits for its tool (the queue
  // keeps a session's jobs in order, so this is a zombie's or another engine's delivery: called
  // directly here). Its claim fences the second turn's delivery, so it must carry that turn on.
  await stack.client.bus.call(contracts.turn.steeringCheck, { session_id, turn_id: first, step: 1 });
  // Well before the recovery sweep would find the turn stalled (stalled_after_ms: 60 s).
  expect(await stack.waitForEnd(session_id, 15_000)).toMatchObject({ turn_id: second, status: 'stopped' });
  expect(stack.runs).toHaveLength(1);
  expectEveryCallAnswered(await stack.messages(session_id));
});
