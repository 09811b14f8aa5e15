import { eventually } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { call, type Stack, startStack } from './helpers/stack.js';

// Issue 12: errors the turn can live with are logged with their reason, never swallowed.
let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

const warnings = (stack: Stack) =>
  stack.workers.orchestrator!.logs.lines().filter((line) => line.level === 'warn' || line.level === 'error');

it('a model the catalog cannot tell about is logged with the reason, and the turn goes on', async () => {
  // This stack has no models-catalog worker: models::get is not registered.
  stack = await startStack({ turns: [{ steps: [{ text: 'fine without limits' }] }] });
  const { session_id } = await stack.start('hi');
  expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'stopped' });
  expect(warnings(stack)).toContainEqual(
    expect.objectContaining({
      msg: expect.stringContaining('no catalog entry for the model'),
      err: expect.stringContaining('models::get'),
      provider: 'scripted',
    }),
  );
});

it('a held call the gate cannot cancel when its turn ends is logged with the reason', async () => {
  stack = await startStack({ turns: [{ steps: [call('tools::held', {}, 'c1')] }] });
  const { session_id } = await stack.start('needs approval');
  await eventually(async () =>
    expect(await stack.client.bus.call(contracts.turn.getState, { session_id })).toMatchObject({
      state: 'function_awaiting_approval',
    }),
  );
  await stack.stopWorker('approval');
  await stack.client.bus.call(contracts.run.abort, { session_id });
  expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'aborted' });
  expect(warnings(stack)).toContainEqual(
    expect.objectContaining({ msg: 'could not cancel a held call', function_call_id: 'c1', err: expect.any(String) }),
  );
});
