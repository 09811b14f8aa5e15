import { type AgentEventInput, type Bus, HarnessError } from '@iii-harness/runtime';
import { DeltaCoalescer } from '../src/coalescer.js';
import { decide } from '../src/gate.js';
import { GateAnswers } from '../src/gate-answers.js';
import { isAbsence, waitOut } from '../src/patience.js';
import { type TurnRecord, turnRecord } from '../src/record.js';
import { denialResult, toResult } from '../src/results.js';
import { AGENT_TRIGGER, resolveCall, toolName, toolsFor } from '../src/tools.js';
import { inboxEntry } from '../src/transcript.js';
import { withUsage } from '../src/usage.js';

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
    generations: 1,
    model_has_news: false,
    usage: { input_tokens: 0, output_tokens: 0 },
    started_at: 1,
    updated_at: 1,
    ...extra,
  });

/** A bus that answers the policy and the approval settings from tables. */
function fakeBus(answers: { policy?: unknown | Error; settings?: unknown | Error }): Bus {
  return {
    call: async (target: string | { id: string }) => {
      const id = typeof target === 'string' ? target : target.id;
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
    const decision = await decide(record(), 'tools::x', {}, 100, new GateAnswers(bus, 's1', 100));
    expect(decision.kind).toBe(expected);
  });

  it("denies calls outside the run's functions before asking anyone", async () => {
    const bus = fakeBus({ policy: allow, settings: mode('full') });
    const decision = await decide(
      record({ functions: ['fs::*'] }),
      'shell::exec',
      {},
      100,
      new GateAnswers(bus, 's1', 100),
    );
    expect(decision).toMatchObject({ kind: 'deny', denied_by: 'run_functions' });
  });

  it('names gate_unavailable when the policy cannot be reached', async () => {
    const bus = fakeBus({ policy: unreachable });
    expect(await decide(record(), 'x::y', {}, 100, new GateAnswers(bus, 's1', 100))).toMatchObject({
      kind: 'deny',
      denied_by: 'gate_unavailable',
    });
  });

  it('asks for the session settings once per step', async () => {
    let asked = 0;
    const bus = {
      call: async (target: string | { id: string }) => {
        const id = typeof target === 'string' ? target : target.id;
        if (id !== 'approval::get_settings') return ask;
        asked++;
        return mode('manual');
      },
    } as unknown as Bus;
    const answers = new GateAnswers(bus, 's1', 100);
    for (const id of ['a::x', 'b::y', 'c::z']) expect((await decide(record(), id, {}, 100, answers)).kind).toBe('hold');
    expect(asked).toBe(1);
  });

  it('asks the policy once per distinct call within a delivery', async () => {
    let asked = 0;
    const bus = {
      call: async (target: string | { id: string }) => {
        const id = typeof target === 'string' ? target : target.id;
        if (id === 'policy::check_permissions') asked++;
        return id === 'policy::check_permissions' ? allow : mode('manual');
      },
    } as unknown as Bus;
    const answers = new GateAnswers(bus, 's1', 100);
    for (const args of [{ a: 1 }, { a: 1 }, { a: 2 }]) await decide(record(), 'a::x', args, 100, answers);
    expect(asked).toBe(2);
  });

  it('waits for a policy that is briefly not registered, within its timeout', async () => {
    let attempts = 0;
    const bus = {
      call: async (target: string | { id: string }) => {
        const id = typeof target === 'string' ? target : target.id;
        if (id !== 'policy::check_permissions') return mode('manual');
        if (++attempts < 3) throw unreachable;
        return allow;
      },
    } as unknown as Bus;
    expect((await decide(record(), 'a::x', {}, 5_000, new GateAnswers(bus, 's1', 5_000))).kind).toBe('allow');
    expect(attempts).toBe(3);
  });

  it('does not ask the gate about a call the policy allows', async () => {
    let asked = 0;
    const bus = {
      call: async (target: string | { id: string }) => {
        const id = typeof target === 'string' ? target : target.id;
        if (id !== 'approval::get_settings') return allow;
        asked++;
        return mode('manual');
      },
    } as unknown as Bus;
    expect((await decide(record(), 'a::x', {}, 100, new GateAnswers(bus, 's1', 100))).kind).toBe('allow');
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

  it("turns inbox items into entries, under the sender's entry id when it gave one", () => {
    const item = (payload: unknown) => ({ id: 'i1', pushed_at: 1, item: payload as never });
    expect(inboxEntry(item({ text: 'stop that' }))).toMatchObject({
      entry_id: 'inbox:i1',
      entry: { type: 'message', message: { role: 'user', content: 'stop that' } },
    });
    expect(inboxEntry(item({ message: { role: 'user', content: 'hi' }, entry_id: 'send:abc' }))).toEqual({
      entry_id: 'send:abc',
      entry: { type: 'message', message: { role: 'user', content: 'hi' } },
    });
    expect(inboxEntry(item({ appended_entry_id: 'e1' }))).toBeUndefined();
    expect(inboxEntry(item({ nonsense: true }))).toBeUndefined();
  });

  it("adds a generation's usage and its cost without touching the record", () => {
    const before = record({ pricing: { input: 1, output: 2, cache_read: 0, cache_write: 0 } });
    const after = withUsage(before, {
      input_tokens: 1_000_000,
      output_tokens: 500_000,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
    });
    expect(after.usage).toMatchObject({ input_tokens: 1_000_000, output_tokens: 500_000 });
    expect(after.cost_usd).toBeGreaterThan(0);
    expect(before.usage.input_tokens).toBe(0);
  });
});

describe('DeltaCoalescer', () => {
  const text = (out: AgentEventInput[]) =>
    out.map((e) => `${(e as { kind: string }).kind}:${(e as { delta: string }).delta}`);

  it('collects a window of deltas, one update per block, split at size', async () => {
    jest.useFakeTimers();
    const out: AgentEventInput[] = [];
    const c = new DeltaCoalescer(async (e) => void out.push(e), 50, 10);
    c.push({ type: 'text_delta', content_index: 0, delta: 'Hel' });
    c.push({ type: 'text_delta', content_index: 0, delta: 'lo ' });
    c.push({ type: 'thinking_delta', content_index: 1, delta: 'hmm' });
    jest.advanceTimersByTime(60);
    c.push({ type: 'text_delta', content_index: 2, delta: '0123456789abc' });
    c.push({ type: 'text_delta', content_index: 2, delta: 'x' });
    c.push({ type: 'tool_call_start', content_index: 3, id: 'c1', name: 'agent_trigger' });
    c.push({ type: 'tool_call_delta', content_index: 3, id: 'c1', delta: '{"a":1}' });
    jest.useRealTimers();
    await c.finish();
    expect(text(out)).toEqual(['text:Hello ', 'thinking:hmm', 'text:0123456789abc', 'text:x', 'tool_call:{"a":1}']);
    expect(out.at(-1)).toMatchObject({ function_call_id: 'c1' });
  });

  it('writes nothing for a message that arrived whole within its first window', async () => {
    const out: AgentEventInput[] = [];
    const c = new DeltaCoalescer(async (e) => void out.push(e), 10_000, 4_096);
    c.push({ type: 'text_delta', content_index: 0, delta: 'All ' });
    c.push({ type: 'text_delta', content_index: 0, delta: 'at once.' });
    await c.finish();
    expect(out).toEqual([]);
    c.push({ type: 'text_delta', content_index: 0, delta: 'cut ' });
    await c.flush();
    expect(text(out)).toEqual(['text:cut ']);
  });
});

describe('waiting out an absent worker', () => {
  const missing = new HarnessError('not_found', 'Function provider::x::stream not found', {
    reason: 'function_not_found',
  });

  it('tells absence from an answer', () => {
    expect(isAbsence(missing)).toBe(true);
    expect(isAbsence(new HarnessError('unavailable', 'Invocation stopped', { reason: 'invocation_stopped' }))).toBe(
      true,
    );
    expect(isAbsence(new HarnessError('timeout', 'invocation timed out'))).toBe(true);
    expect(isAbsence(new HarnessError('not_found', 'session s1 not found'))).toBe(false);
    expect(isAbsence(new HarnessError('unavailable', 'gave up', { reason: 'waited_out', retryable: false }))).toBe(
      false,
    );
    expect(isAbsence(new Error('boom'))).toBe(false);
  });

  it('retries with backoff until the worker is back, saying once that it waits', async () => {
    let attempts = 0;
    const waits: string[] = [];
    const value = await waitOut(
      'provider::x::stream',
      async () => {
        if (++attempts < 3) throw missing;
        return 'streamed';
      },
      { boundMs: 5_000, onWait: (id) => void waits.push(id) },
    );
    expect({ value, attempts, waits }).toEqual({ value: 'streamed', attempts: 3, waits: ['provider::x::stream'] });
  });

  it('gives up after the bound with a clear, final reason', async () => {
    await expect(
      waitOut(
        'provider::x::stream',
        async () => {
          throw missing;
        },
        { boundMs: 250 },
      ),
    ).rejects.toMatchObject({ code: 'unavailable', reason: 'waited_out', retryable: false });
  });
});
