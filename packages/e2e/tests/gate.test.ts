import { contracts } from '@iii-harness/types';
import { agentEvents, call, type Stack, startStack } from './helpers/stack.js';

let stack: Stack;
afterEach(async () => {
  await stack?.close();
});

const resultsOf = async (sessionId: string) =>
  (await stack.messages(sessionId))
    .filter((m) => m.message.role === 'function_result')
    .map((m) => m.message as { function_call_id: string; is_error: boolean; content: Array<{ text: string }> });

it('7. with the policy unreachable (harness stopped), a call is denied as gate_unavailable within the policy timeout', async () => {
  // The policy is waited for (it may be restarting) up to policy_timeout_ms (5 s by default), then the call is denied.
  stack = await startStack({
    turns: [
      { steps: [{ text: 'ready' }] },
      { steps: [call('tools::echo', { x: 1 }, 'c1')] },
      { steps: [{ text: 'denied, fine' }] },
    ],
    orchestrator: { policy_timeout_ms: 1_000 },
  });
  // A first turn while the harness runs: the provider reads its settings from the harness and
  // keeps them, so the model still answers once the harness is gone (what is tested is the gate).
  const warm = await stack.start('warm up');
  expect(await stack.waitForEnd(warm.session_id)).toMatchObject({ status: 'stopped' });
  await stack.stopWorker('harness');
  const started = Date.now();
  const { session_id } = await stack.start('try it');
  expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'stopped' });
  const events = await agentEvents(stack, session_id);
  const end = events.find((e) => e.type === 'function_execution_end')!;
  expect(end.timestamp - started).toBeLessThan(5_000);
  const [result] = await resultsOf(session_id);
  expect(result).toMatchObject({ function_call_id: 'c1', is_error: true });
  expect(result!.content[0]!.text).toContain('gate_unavailable');
  expect(stack.runs).toEqual([]);
});

it('10. the harness control surface is denied to the model in every mode, whatever the rules say', async () => {
  const attempts = [
    call('approval::resolve', { session_id: 'x', function_call_id: 'y', decision: 'allow' }, 'a1'),
    call('approval::set_mode', { session_id: 'x', mode: 'full' }, 'a2'),
    call('auth::get_token', { provider: 'openai' }, 'a3'),
    call('run::start', { session_id: 'x', provider: 'scripted', model: 'm' }, 'a4'),
  ];
  stack = await startStack({ policy: "rules:\n  - '*'\n" });
  for (const mode of ['manual', 'auto', 'full'] as const) {
    const session_id = `kernel-${mode}`;
    await stack.client.bus.call(contracts.session.ensure, { session_id });
    await stack.client.bus.call(contracts.approval.setMode, { session_id, mode });
    stack.provider.script({ steps: attempts }, { steps: [{ text: 'ok' }] });
    await stack.start('escalate', { session_id });
    expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'stopped' });
    const results = await resultsOf(session_id);
    expect(results.map((r) => r.function_call_id)).toEqual(['a1', 'a2', 'a3', 'a4']);
    for (const r of results)
      expect(r).toMatchObject({ is_error: true, content: [{ text: expect.stringMatching(/^denied \(kernel\)/) }] });
    expect((await stack.client.bus.call(contracts.approval.getSettings, { session_id: 'x' })).mode).toBe('manual');
  }
});

it('manual, auto and full modes decide a needs_approval call differently', async () => {
  stack = await startStack();
  for (const [mode, expected] of [
    ['auto', 'ran'],
    ['full', 'ran'],
  ] as const) {
    const session_id = `mode-${mode}`;
    await stack.client.bus.call(contracts.session.ensure, { session_id });
    await stack.client.bus.call(contracts.approval.setMode, { session_id, mode });
    stack.provider.script({ steps: [call('tools::held', { mode }, `h-${mode}`)] }, { steps: [{ text: 'done' }] });
    await stack.start('go', { session_id });
    expect(await stack.waitForEnd(session_id)).toMatchObject({ status: 'stopped' });
    expect(expected).toBe(stack.runs.some((r) => (r.input as { mode?: string }).mode === mode) ? 'ran' : 'held');
  }
  stack.provider.script({ steps: [call('tools::forbidden', {}, 'f-full')] }, { steps: [{ text: 'done' }] });
  await stack.client.bus.call(contracts.session.ensure, { session_id: 'mode-full-deny' });
  await stack.client.bus.call(contracts.approval.setMode, { session_id: 'mode-full-deny', mode: 'full' });
  await stack.start('go', { session_id: 'mode-full-deny' });
  await stack.waitForEnd('mode-full-deny');
  expect(stack.runs.map((r) => r.function_id)).toContain('tools::forbidden');
});
