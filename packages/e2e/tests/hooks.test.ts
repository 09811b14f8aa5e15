import { subscribeHook, type WorkerSpec } from '@iii-harness/runtime';
import { startTestWorker } from '@iii-harness/testing';
import { HOOK_AFTER_FUNCTION_CALL, HOOK_BEFORE_FUNCTION_CALL } from '@iii-harness/types';
import { z } from 'zod';
import { engineQueues } from './helpers/engine-queues.js';
import { call, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

const guard = (seen: unknown[]): WorkerSpec<unknown> => ({
  name: 'guard',
  description: 'hook subscribers',
  config: z.object({}),
  register(worker) {
    subscribeHook(worker, {
      topic: HOOK_BEFORE_FUNCTION_CALL,
      function_id: 'guard::before',
      handler: (payload: { function_id: string; args: { word?: string } }) => {
        seen.push(payload);
        return payload.args.word === 'blocked' ? { block: true, reason: 'the guard says no' } : { block: false };
      },
    });
    subscribeHook(worker, {
      topic: HOOK_AFTER_FUNCTION_CALL,
      function_id: 'guard::after',
      handler: () => ({ result: 'rewritten by the after hook' }),
    });
  },
});

it('11. a before_function_call subscriber blocks a call, an after_function_call subscriber rewrites a result', async () => {
  stack = await startStack({
    turns: [
      { steps: [call('tools::echo', { word: 'blocked' }, 'b1'), call('tools::echo', { word: 'fine' }, 'b2')] },
      { steps: [{ text: 'ok' }] },
    ],
  });
  const seen: unknown[] = [];
  stack.workers.guard = await startTestWorker(guard(seen), { url: stack.engine.url });
  const { session_id } = await stack.start('hooks');
  await stack.waitForEnd(session_id);
  expect(stack.runs.map((r) => r.input)).toEqual([{ word: 'fine' }]);
  const results = (await stack.messages(session_id))
    .filter((m) => m.message.role === 'function_result')
    .map((m) => m.message as { content: Array<{ text: string }>; is_error: boolean });
  expect(results[0]).toMatchObject({ is_error: true, content: [{ text: 'denied (hook): the guard says no' }] });
  expect(results[1]).toMatchObject({ is_error: false, content: [{ text: 'rewritten by the after hook' }] });
  expect(seen).toHaveLength(2);
});

it('11. with no subscriber, nothing is published', async () => {
  stack = await startStack({
    turns: [{ steps: [call('tools::echo', { word: 'x' }, 'n1')] }, { steps: [{ text: 'ok' }] }],
  });
  const { session_id } = await stack.start('no hooks');
  await stack.waitForEnd(session_id);
  expect(stack.runs).toHaveLength(1);
  const topics = await stack.client.bus.call(engineQueues.listTopics, {});
  expect(topics.map((t) => t.name)).not.toContain(HOOK_BEFORE_FUNCTION_CALL);
  expect(topics.map((t) => t.name)).not.toContain(HOOK_AFTER_FUNCTION_CALL);
});
