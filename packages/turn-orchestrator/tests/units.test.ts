import { type AgentEventInput, type Bus, HarnessError } from '@iii-harness/runtime';
import { DeltaCoalescer } from '../src/coalescer.js';
import { decide } from '../src/gate.js';
import { allowedByRun, globToRegExp } from '../src/globs.js';
import { type TurnRecord, turnRecord } from '../src/record.js';
import { denialResult, toResult } from '../src/results.js';
import { StepCache } from '../src/step-cache.js';
import { isTransient } from '../src/step-runner.js';
import { AGENT_TRIGGER, resolveCall, toolName, toolsFor } from '../src/tools.js';
import { inboxMessage } from '../src/transcript.js';

const record = (extra: Partial<TurnRecord> = {}): TurnRecord =>
  turnRecord.parse({
    session_id: 's1',
    turn_id: 't1',
    state: 'function_execute',
    step: 3,
    provider: 'p',
    model: 'm',
    max_turns: 4,
    exposure: 'agent_trigger',
    turn_count: 1,
    usage: { input_tokens: 0, output_tokens: 0 },
    started_at: 1,
    updated_at: 1,
    ...extra,
  });

/** A bus that answers the policy and the approval settings from tables. */
function fakeBus(answers: { policy?: unknown | Error; settings?: unknown | Error }): Bus {
  return {
    call: async (id: string) => {
      const answer = id === 'policy::check_permissions' ? answers.policy : answers.settings;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as Bus;
}

describe('gate decision table', () => {
  const unreachable = new HarnessError('not_found', 'Function policy::check_permissions not found', {
    reason: 'function_not_found',
  });
  const allow = { decision: 'allow', rule_id: 'tools::*' };
  const deny = { decision: 'deny', rule_id: 'no-rm' };
  const kernel = { decision: 'deny', rule_id: 'kernel', reason: 'reserved' };
  const ask = { decision: 'needs_approval' };
  const mode = (m: string, always: string[] = []) => ({ mode: m, always_allow: always });

  it.each([
    ['kernel deny, full mode', 'deny', kernel, mode('full')],
    ['no policy, full mode', 'deny', { decision: 'deny', rule_id: 'no_policy' }, mode('full')],
    ['rule deny, manual', 'deny', deny, mode('manual')],
    ['rule deny, auto', 'deny', deny, mode('auto')],
    ['rule deny, full', 'allow', deny, mode('full')],
    ['allow, manual', 'allow', allow, mode('manual')],
    ['needs approval, manual', 'hold', ask, mode('manual')],
    ['needs approval, manual, always-allowed', 'allow', ask, mode('manual', ['tools::x'])],
    ['needs approval, auto', 'allow', ask, mode('auto')],
    ['needs approval, full', 'allow', ask, mode('full')],
    ['policy unreachable', 'deny', unreachable, mode('full')],
    ['gate unreachable, policy allows (no mode can change an allow)', 'allow', allow, unreachable],
    ['gate unreachable, needs approval', 'deny', ask, unreachable],
  ])('%s → %s', async (_name, expected, policy, settings) => {
    const bus = fakeBus({ policy, settings });
    const decision = await decide(bus, record(), 'tools::x', {}, 100, new StepCache(bus, 's1', 100));
    expect(decision.kind).toBe(expected);
  });

  it("denies calls outside the run's functions before asking anyone", async () => {
    const bus = fakeBus({ policy: allow, settings: mode('full') });
    const decision = await decide(
      bus,
      record({ functions: ['fs::*'] }),
      'shell::exec',
      {},
      100,
      new StepCache(bus, 's1', 100),
    );
    expect(decision).toMatchObject({ kind: 'deny', denied_by: 'run_functions' });
  });

  it('names gate_unavailable when the policy cannot be reached', async () => {
    const bus = fakeBus({ policy: unreachable });
    expect(await decide(bus, record(), 'x::y', {}, 100, new StepCache(bus, 's1', 100))).toMatchObject({
      kind: 'deny',
      denied_by: 'gate_unavailable',
    });
  });

  it('asks for the session settings once per step', async () => {
    let asked = 0;
    const bus = {
      call: async (id: string) => {
        if (id !== 'approval::get_settings') return ask;
        asked++;
        return mode('manual');
      },
    } as unknown as Bus;
    const cache = new StepCache(bus, 's1', 100);
    for (const id of ['a::x', 'b::y', 'c::z'])
      expect((await decide(bus, record(), id, {}, 100, cache)).kind).toBe('hold');
    expect(asked).toBe(1);
  });

  it('does not ask the gate about a call the policy allows', async () => {
    let asked = 0;
    const bus = {
      call: async (id: string) => {
        if (id !== 'approval::get_settings') return allow;
        asked++;
        return mode('manual');
      },
    } as unknown as Bus;
    expect((await decide(bus, record(), 'a::x', {}, 100, new StepCache(bus, 's1', 100))).kind).toBe('allow');
    expect(asked).toBe(0);
  });
});

describe('tools', () => {
  it('resolves agent_trigger calls and rejects malformed ones', () => {
    const r = record();
    expect(
      resolveCall(r, {
        type: 'function_call',
        id: 'c',
        name: AGENT_TRIGGER,
        arguments: { function_id: 'a::b', payload: { x: 1 } },
      }),
    ).toEqual({ function_id: 'a::b', payload: { x: 1 } });
    expect(
      resolveCall(r, { type: 'function_call', id: 'c', name: AGENT_TRIGGER, arguments: { function_id: 'a::b' } }),
    ).toEqual({ function_id: 'a::b', payload: {} });
    expect(resolveCall(r, { type: 'function_call', id: 'c', name: AGENT_TRIGGER, arguments: {} })).toHaveProperty(
      'error',
    );
    expect(
      resolveCall(r, {
        type: 'function_call',
        id: 'c',
        name: AGENT_TRIGGER,
        arguments: { function_id: 'a::b', payload: [1] },
      }),
    ).toHaveProperty('error');
    expect(resolveCall(r, { type: 'function_call', id: 'c', name: 'shell__exec', arguments: {} })).toEqual({
      error: 'there is no tool named shell__exec',
    });
  });

  it('maps native tool names back to function ids', () => {
    const r = record({
      exposure: 'native',
      native_tools: [
        { name: 'shell__exec', function_id: 'shell::exec', description: 'run', parameters: { type: 'object' } },
      ],
    });
    expect(
      resolveCall(r, { type: 'function_call', id: 'c', name: 'shell__exec', arguments: { command: 'ls' } }),
    ).toEqual({ function_id: 'shell::exec', payload: { command: 'ls' } });
    expect(toolsFor(r).map((t) => t.name)).toEqual(['shell__exec']);
    expect(toolsFor(record()).map((t) => t.name)).toEqual([AGENT_TRIGGER]);
  });

  it('makes provider-safe, unique tool names', () => {
    const taken = new Set<string>();
    expect(toolName('shell::exec', taken)).toBe('shell__exec');
    expect(toolName('shell::exec', taken)).toBe('shell__exec_2');
    expect(toolName('a.b/c', taken)).toBe('a_b_c');
  });

  it('matches run function globs across ::', () => {
    expect(globToRegExp('shell::*').test('shell::fs::read')).toBe(true);
    expect(allowedByRun(undefined, 'anything')).toBe(true);
    expect(allowedByRun(['*::list'], 'models::list')).toBe(true);
    expect(allowedByRun(['*::list'], 'models::get')).toBe(false);
  });
});

describe('results and inbox items', () => {
  it('renders results and truncates long ones', () => {
    expect(toResult({ a: 1 }, 100)).toEqual({ content: [{ type: 'text', text: '{"a":1}' }], is_error: false });
    expect(toResult(undefined, 100).content[0]).toEqual({ type: 'text', text: '(no result)' });
    expect((toResult('x'.repeat(50), 10).content[0] as { text: string }).text).toMatch(
      /^x{10}\n… \[truncated: 40 more characters\]$/,
    );
    expect(denialResult('kernel', 'no')).toEqual({
      content: [{ type: 'text', text: 'denied (kernel): no' }],
      is_error: true,
    });
  });

  it('turns inbox items into user messages', () => {
    expect(inboxMessage({ text: 'stop that' })).toMatchObject({ role: 'user', content: 'stop that' });
    expect(inboxMessage({ message: { role: 'user', content: 'hi' } })).toEqual({ role: 'user', content: 'hi' });
    expect(inboxMessage({ appended_entry_id: 'e1' })).toBeUndefined();
  });
});

describe('DeltaCoalescer', () => {
  it('joins deltas of one block and splits at block changes, size and time', async () => {
    jest.useFakeTimers();
    const out: AgentEventInput[] = [];
    const c = new DeltaCoalescer(async (e) => void out.push(e), 50, 10);
    c.push({ type: 'text_delta', content_index: 0, delta: 'Hel' });
    c.push({ type: 'text_delta', content_index: 0, delta: 'lo ' });
    c.push({ type: 'thinking_delta', content_index: 1, delta: 'hmm' });
    c.push({ type: 'text_delta', content_index: 2, delta: '0123456789abc' });
    c.push({ type: 'text_delta', content_index: 2, delta: 'x' });
    jest.advanceTimersByTime(60);
    c.push({ type: 'tool_call_start', content_index: 3, id: 'c1', name: 'agent_trigger' });
    c.push({ type: 'tool_call_delta', content_index: 3, id: 'c1', delta: '{"a":1}' });
    jest.useRealTimers();
    await c.flush();
    expect(out.map((e) => `${(e as { kind: string; delta: string }).kind}:${(e as { delta: string }).delta}`)).toEqual([
      'text:Hello ',
      'thinking:hmm',
      'text:0123456789abc',
      'text:x',
      'tool_call:{"a":1}',
    ]);
    expect(out.at(-1)).toMatchObject({ function_call_id: 'c1' });
  });
});

describe('isTransient', () => {
  it('retries through the queue when a worker is missing or unavailable, and fails the turn otherwise', () => {
    expect(
      isTransient(
        new HarnessError('not_found', 'Function session::messages not found', { reason: 'function_not_found' }),
      ),
    ).toBe(true);
    expect(isTransient(new HarnessError('unavailable', 'Invocation stopped', { reason: 'invocation_stopped' }))).toBe(
      true,
    );
    expect(isTransient(new HarnessError('timeout', 'invocation timed out'))).toBe(true);
    expect(isTransient(new HarnessError('not_found', 'session s1 not found'))).toBe(false);
    expect(
      isTransient(new HarnessError('provider_error', 'provider x is not available', { reason: 'provider_missing' })),
    ).toBe(false);
    expect(isTransient(new Error('boom'))).toBe(false);
  });
});
