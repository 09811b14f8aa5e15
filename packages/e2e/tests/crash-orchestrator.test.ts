import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@iii-harness/testing';
import { INTERRUPTED } from '@iii-harness/turn-orchestrator';
import { contracts, TURN_STEP_QUEUE } from '@iii-harness/types';
import { engineQueues } from './helpers/engine-queues.js';
import { type Proc, spawnWorker } from './helpers/processes.js';
import { agentEvents, call, type Stack, startStack } from './helpers/stack.js';

// The orchestrator runs as its own process and is killed with SIGKILL; everything else stays up.
let stack: Stack;
let orchestrator: Proc | undefined;
const config = join(mkdtempSync(join(tmpdir(), 'iih-crash-')), 'config.yaml');
writeFileSync(config, 'turn-orchestrator:\n  coalesce_ms: 10\n');

const startOrchestrator = async () => {
  orchestrator = spawnWorker('turn-orchestrator', stack.engine.url, config);
  await eventually(
    async () => {
      const info = await stack.client.bus
        .call(contracts.engine.functionsInfo, { function_id: 'run::start' })
        .catch(() => undefined);
      if (!info) throw new Error(`orchestrator not up yet:\n${orchestrator?.tail()}`);
    },
    { timeoutMs: 15_000 },
  );
};

afterEach(async () => {
  await orchestrator?.stop();
  await stack?.close();
});

it('5. killing the orchestrator during a slow tool call never runs the call twice; the model gets "interrupted"', async () => {
  stack = await startStack({
    without: ['orchestrator'],
    turns: [{ steps: [call('tools::slow', { ms: 1_500 }, 'slow1')] }, { steps: [{ text: 'it was interrupted' }] }],
  });
  await startOrchestrator();
  const { session_id } = await stack.start('run the slow tool');
  await eventually(() => expect(stack.runs.map((r) => r.function_id)).toEqual(['tools::slow']), { timeoutMs: 10_000 });
  await orchestrator!.kill9();
  await new Promise((r) => setTimeout(r, 2_000)); // the slow call finishes with nobody waiting
  await startOrchestrator();
  expect(await stack.waitForEnd(session_id, 30_000)).toMatchObject({ status: 'stopped' });
  expect(stack.runs).toHaveLength(1);
  const messages = await stack.messages(session_id);
  expect(messages.map((m) => m.message.role)).toEqual(['user', 'assistant', 'function_result', 'assistant']);
  expect(messages[2]!.message).toMatchObject({
    function_call_id: 'slow1',
    is_error: true,
    content: [{ text: INTERRUPTED }],
  });
  expect(new Set(messages.map((m) => m.entry_id)).size).toBe(messages.length);
});

it('6. killing the orchestrator mid-stream: the turn completes with exactly one assistant entry', async () => {
  const slow = { steps: [{ text: 'streaming slowly, word by word, for a while' }], split: 30, delay_ms: 60 };
  stack = await startStack({
    without: ['orchestrator'],
    turns: [slow, { steps: [{ text: 'the answer, after a restart' }] }],
  });
  await startOrchestrator();
  const { session_id } = await stack.start('stream please');
  await eventually(
    async () => expect((await agentEvents(stack, session_id)).some((e) => e.type === 'message_update')).toBe(true),
    { timeoutMs: 10_000 },
  );
  await orchestrator!.kill9();
  await startOrchestrator();
  expect(await stack.waitForEnd(session_id, 30_000)).toMatchObject({ status: 'stopped' });
  const messages = await stack.messages(session_id);
  expect(messages.map((m) => m.message.role)).toEqual(['user', 'assistant']);
  const completes = (await agentEvents(stack, session_id)).filter((e) => e.type === 'turn_completed');
  expect(completes).toHaveLength(1);
});

it('7. the orchestrator killed mid-step as many times in a row as the queue allows attempts: the step is not left dead-lettered, the call runs once', async () => {
  // The engine counts each of these deliveries as a failed attempt (as iii does), so the last kill
  // dead-letters the step; the restarted orchestrator must deliver it again, not leave it there.
  const kills = TURN_STEP_QUEUE.config.max_retries;
  const slow = { steps: [{ text: 'streaming slowly, word by word, for a while' }], split: 30, delay_ms: 100 };
  stack = await startStack({
    without: ['orchestrator'],
    turns: [
      { steps: [call('tools::slow', { ms: 3_000 }, 'slow1')] },
      ...Array.from({ length: kills - 1 }, () => slow),
      { steps: [{ text: 'done after every crash' }] },
    ],
  });
  await startOrchestrator();
  const { session_id } = await stack.start('keep going');
  for (let k = 1; k <= kills; k++) {
    // Kill 1 lands while the tool runs; kill k > 1 while the k-th model request streams.
    if (k === 1) await eventually(() => expect(stack.runs).toHaveLength(1), { timeoutMs: 30_000 });
    else
      await eventually(() => expect(stack.provider.requests.length).toBeGreaterThanOrEqual(k), { timeoutMs: 60_000 });
    await orchestrator!.kill9();
    await startOrchestrator();
  }
  expect(await stack.waitForEnd(session_id, 60_000)).toMatchObject({ status: 'stopped' });
  expect(stack.runs).toHaveLength(1);
  const deadSteps = () => stack.client.bus.call(engineQueues.dlqMessages, { queue: TURN_STEP_QUEUE.queue });
  // The engine dead-letters the step when it sees the last kill; the restart that follows redrives it.
  await eventually(async () => expect(await deadSteps()).toEqual([]), { timeoutMs: 10_000 });
  const messages = await stack.messages(session_id);
  expect(messages.map((m) => m.message.role)).toEqual(['user', 'assistant', 'function_result', 'assistant']);
  expect(new Set(messages.map((m) => m.entry_id)).size).toBe(messages.length);
  expect((await agentEvents(stack, session_id)).filter((e) => e.type === 'turn_completed')).toHaveLength(1);
}, 300_000);
