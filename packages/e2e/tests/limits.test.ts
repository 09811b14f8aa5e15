import { eventually } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { agentEvents, call, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

it('9. max_turns ends the turn with a notice, not an error', async () => {
  const loop = { steps: [call('tools::count', {}, 'again')] };
  stack = await startStack({ turns: [loop, loop, loop, loop] });
  const { session_id } = await stack.start('loop forever', { max_turns: 2 });
  const done = await stack.waitForEnd(session_id);
  expect(done).toMatchObject({ status: 'stopped', reason: 'max_turns' });
  expect(stack.provider.requests).toHaveLength(2);
  const entries = await stack.client.bus.call(contracts.session.tree, { session_id });
  expect(JSON.stringify(entries)).toContain('max_turns');
});

it('9. run::abort mid-stream ends the turn as aborted and stops the provider stream', async () => {
  stack = await startStack({
    turns: [{ steps: [{ text: 'a very slow answer that will never finish streaming' }], split: 40, delay_ms: 100 }],
  });
  const { session_id } = await stack.start('talk slowly');
  await eventually(async () => {
    const updates = (await agentEvents(stack, session_id)).filter((e) => e.type === 'message_update');
    expect(updates.length).toBeGreaterThan(0);
  });
  const before = Date.now();
  expect(await stack.client.bus.call(contracts.run.abort, { session_id })).toMatchObject({ aborted: true });
  const done = await stack.waitForEnd(session_id);
  expect(done).toMatchObject({ status: 'aborted' });
  expect(Date.now() - before).toBeLessThan(3_000);
  const [assistant] = (await stack.messages(session_id)).filter((m) => m.message.role === 'assistant');
  expect(assistant?.message).toMatchObject({ stop_reason: 'aborted' });
});

it('9. run::abort of a parked turn resolves its held call as aborted', async () => {
  stack = await startStack({ turns: [{ steps: [call('tools::held', {}, 'h1')] }] });
  const { session_id } = await stack.start('needs approval');
  await eventually(async () =>
    expect(await stack.client.bus.call(contracts.turn.getState, { session_id })).toMatchObject({
      state: 'function_awaiting_approval',
    }),
  );
  await stack.client.bus.call(contracts.run.abort, { session_id });
  expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'aborted' });
  expect((await stack.client.bus.call(contracts.approval.listPending, { session_id })).pending).toEqual([]);
  expect(stack.runs).toEqual([]);
  const [result] = (await stack.messages(session_id)).filter((m) => m.message.role === 'function_result');
  expect(result?.message).toMatchObject({ function_call_id: 'h1', is_error: true });
});

it('9. the sweep denies an expired hold and the turn completes', async () => {
  stack = await startStack({
    turns: [{ steps: [call('tools::held', {}, 'late')] }, { steps: [{ text: 'nobody answered' }] }],
    approval: { pending_timeout_ms: 300, sweep_cron: '* * * * * *' },
  });
  const { session_id } = await stack.start('wait for approval');
  expect(await stack.waitForEnd(session_id, 10_000)).toMatchObject({ status: 'stopped' });
  const [result] = (await stack.messages(session_id)).filter((m) => m.message.role === 'function_result');
  expect(result?.message).toMatchObject({ is_error: true, content: [{ text: expect.stringContaining('timed out') }] });
  expect(stack.runs).toEqual([]);
});
