import { contracts } from '@iii-harness/types';
import { agentEvents, call, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

it('1. streams text: message_update events, one message_complete, turn_completed; one user and one assistant entry', async () => {
  // Deltas spread over several coalescing windows (a message that arrives whole within one writes no update).
  stack = await startStack({
    turns: [{ steps: [{ text: 'Hello there, how can I help you today?' }], split: 6, delay_ms: 15 }],
  });
  const { session_id } = await stack.start('hi');
  const done = await stack.waitForEnd(session_id);
  expect(done).toMatchObject({ type: 'turn_completed', status: 'stopped' });
  const events = await agentEvents(stack, session_id);
  const types = events.map((e) => e.type);
  expect(types.filter((t) => t === 'message_update').length).toBeGreaterThan(0);
  expect(types.filter((t) => t === 'message_complete')).toHaveLength(1);
  expect(types.filter((t) => t === 'turn_completed')).toHaveLength(1);
  expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  const text = events
    .filter((e) => e.type === 'message_update')
    .map((e) => (e as { delta: string }).delta)
    .join('');
  expect(text).toBe('Hello there, how can I help you today?');
  const messages = await stack.messages(session_id);
  expect(messages.map((m) => m.message.role)).toEqual(['user', 'assistant']);
});

it('2. an allowed call runs exactly once, its result is appended, the model reacts, the turn ends', async () => {
  stack = await startStack({
    turns: [
      { steps: [{ text: 'Let me echo.' }, call('tools::echo', { word: 'ping' }, 'call_1')] },
      { steps: [{ text: 'The echo said ping.' }] },
    ],
  });
  const { session_id } = await stack.start('echo ping');
  expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'stopped' });
  expect(stack.runs).toEqual([{ function_id: 'tools::echo', input: { word: 'ping' } }]);
  const messages = await stack.messages(session_id);
  expect(messages.map((m) => m.message.role)).toEqual(['user', 'assistant', 'function_result', 'assistant']);
  expect(messages[2]!.message).toMatchObject({
    function_call_id: 'call_1',
    is_error: false,
    content: [{ type: 'text', text: JSON.stringify({ echoed: { word: 'ping' } }) }],
  });
  const second = stack.provider.requests[1]!;
  expect(second.messages.at(-1)).toMatchObject({ role: 'function_result', function_call_id: 'call_1' });
});

it('3. a batch of allowed, held and denied calls: runs, denies, parks, resumes on approval, results in order', async () => {
  stack = await startStack({
    turns: [
      {
        steps: [
          call('tools::held', { n: 1 }, 'c_held'),
          call('tools::echo', { n: 2 }, 'c_allowed'),
          call('tools::forbidden', { n: 3 }, 'c_denied'),
        ],
      },
      { steps: [{ text: 'All three handled.' }] },
    ],
  });
  const { session_id } = await stack.start('three calls');
  const { client } = stack;
  const parked = await (async () => {
    for (let i = 0; i < 200; i++) {
      const view = await client.bus.call(contracts.turn.getState, { session_id });
      if (view.state === 'function_awaiting_approval') return view;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('never parked');
  })();
  expect(parked.pending_approvals.map((p) => p.function_call_id)).toEqual(['c_held']);
  expect(stack.runs.map((r) => r.function_id)).toEqual(['tools::echo']);
  const { pending } = await client.bus.call(contracts.approval.listPending, { session_id });
  expect(pending.map((p) => p.function_call_id)).toEqual(['c_held']);

  await client.bus.call(contracts.approval.resolve, { session_id, function_call_id: 'c_held', decision: 'allow' });
  expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'stopped' });
  expect(stack.runs.map((r) => r.function_id).sort()).toEqual(['tools::echo', 'tools::held']);
  const results = (await stack.messages(session_id))
    .filter((m) => m.message.role === 'function_result')
    .map((m) => m.message as { function_call_id: string; is_error: boolean; content: Array<{ text: string }> });
  expect(results.map((r) => r.function_call_id)).toEqual(['c_held', 'c_allowed', 'c_denied']);
  expect(results.map((r) => r.is_error)).toEqual([false, false, true]);
  expect(results[2]!.content[0]!.text).toMatch(/^denied/);
  const events = await agentEvents(stack, session_id);
  expect(events.filter((e) => e.type === 'approval_requested')).toHaveLength(1);
  expect(events.filter((e) => e.type === 'turn_completed')).toHaveLength(1);
});
