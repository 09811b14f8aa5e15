import type { ProviderRequest } from '@iii-harness/provider-kit';
import { call, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
afterAll(async () => {
  await stack?.close();
});

it('12. 50 concurrent sessions with three tool calls each all complete, nothing lost or duplicated', async () => {
  const sessions = 50;
  const afterTools = (r: ProviderRequest) => r.messages.at(-1)?.role === 'function_result';
  const firstAsk = (r: ProviderRequest) => r.messages.at(-1)?.role === 'user';
  stack = await startStack();
  for (let i = 0; i < sessions; i++) {
    stack.provider.script(
      {
        match: firstAsk,
        steps: [
          call('tools::echo', { i: 1 }, 'x1'),
          call('tools::echo', { i: 2 }, 'x2'),
          call('tools::echo', { i: 3 }, 'x3'),
        ],
      },
      { match: afterTools, steps: [{ text: 'three done' }] },
    );
  }
  const started = await Promise.all(
    Array.from({ length: sessions }, (_, i) => stack.start(`session ${i}`, { session_id: `load-${i}` })),
  );
  const ends = await Promise.all(started.map(({ session_id }) => stack.waitForEnd(session_id, 60_000)));
  expect(ends.filter((e) => e.status !== 'stopped')).toEqual([]);
  expect(stack.runs).toHaveLength(sessions * 3);
  for (const { session_id } of started) {
    const roles = (await stack.messages(session_id)).map((m) => m.message.role);
    expect(roles).toEqual(['user', 'assistant', 'function_result', 'function_result', 'function_result', 'assistant']);
  }
}, 120_000);
