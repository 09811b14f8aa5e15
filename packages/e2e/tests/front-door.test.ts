import type { ProviderRequest } from '@iii-harness/provider-kit';
import { eventually } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { call, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

const userTexts = (request: ProviderRequest) =>
  request.messages.filter((m) => m.role === 'user').map((m) => (typeof m.content === 'string' ? m.content : ''));

it('8. harness::send starts a turn; a send during it merges into the steering inbox and the model sees it at the next steering_check', async () => {
  stack = await startStack({
    turns: [{ steps: [call('tools::slow', { ms: 600 }, 's1')] }, { steps: [{ text: 'saw the steering message' }] }],
  });
  const first = await stack.client.bus.call(contracts.harness.send, { text: 'run the slow tool' });
  expect(first.merged).toBe(false);
  await eventually(() => expect(stack.runs.map((r) => r.function_id)).toEqual(['tools::slow']));
  const second = await stack.client.bus.call(contracts.harness.send, {
    session_id: first.session_id,
    text: 'also, be brief',
  });
  expect(second).toEqual({ session_id: first.session_id, turn_id: first.turn_id, merged: true });
  expect(await stack.waitForEnd(first.session_id)).toMatchObject({ status: 'stopped' });
  expect(stack.provider.requests).toHaveLength(2);
  expect(userTexts(stack.provider.requests[1]!)).toEqual(['run the slow tool', 'also, be brief']);
  const roles = (await stack.messages(first.session_id)).map((m) => m.message.role);
  expect(roles).toEqual(['user', 'assistant', 'function_result', 'user', 'assistant']);
});

it('8. a repeated idempotency key changes nothing', async () => {
  stack = await startStack({ turns: [{ steps: [{ text: 'once' }] }] });
  const send = { session_id: 'idem-1', text: 'hello', idempotency_key: 'client-msg-42' };
  const first = await stack.client.bus.call(contracts.harness.send, send);
  await stack.waitForEnd('idem-1');
  const again = await Promise.all([
    stack.client.bus.call(contracts.harness.send, send),
    stack.client.bus.call(contracts.harness.send, send),
  ]);
  expect(again).toEqual([first, first]);
  expect((await stack.messages('idem-1')).map((m) => m.message.role)).toEqual(['user', 'assistant']);
  expect(stack.provider.requests).toHaveLength(1);
});

it('harness::status and harness::stop', async () => {
  stack = await startStack({ turns: [{ steps: [{ text: 'slow '.repeat(40) }], split: 40, delay_ms: 50 }] });
  const { session_id } = await stack.client.bus.call(contracts.harness.send, { text: 'go' });
  expect(await stack.client.bus.call(contracts.harness.status, { session_id })).toMatchObject({ live: true });
  await eventually(async () =>
    expect(await stack.client.bus.call(contracts.harness.stop, { session_id })).toMatchObject({ stopped: true }),
  );
  expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'aborted' });
  expect(await stack.client.bus.call(contracts.harness.status, { session_id })).toMatchObject({
    live: false,
    turn: { state: 'stopped', outcome: 'aborted' },
  });
});

it('rejects malformed sends with invalid_payload and changes nothing', async () => {
  stack = await startStack();
  for (const bad of [
    {},
    { text: '' },
    { text: 'a', message: { role: 'user', content: 'b' } },
    { session_id: 'bad id with spaces', text: 'x' },
    { text: 'x', max_turns: 0 },
  ]) {
    await expect(stack.client.bus.invoke(contracts.harness.send.id, bad)).rejects.toMatchObject({
      code: 'invalid_payload',
    });
  }
  expect(await stack.client.bus.call(contracts.session.list, {})).toMatchObject({ sessions: [] });
});
