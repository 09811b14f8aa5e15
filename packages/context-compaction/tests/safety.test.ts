import { codeOf } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { chat, chatSession, prose, summariserRequests, userText } from './helpers.js';
import {
  appendAll,
  assistantMessage,
  compactionEntries,
  compactNow,
  compactSession,
  contextOf,
  GOOD_SUMMARY,
  getState,
  newSessionId,
  orphans,
  plan,
  resultMessage,
  type Stack,
  startStack,
  summaryTurn,
  textOf,
} from './stack.js';

let s: Stack;
beforeAll(async () => {
  // A summariser whose window holds any span here: one call per compaction (chunks: chunked.test.ts).
  s = await startStack({ compaction: { summariser: { provider: 'scripted', model: 'big-32k' } } });
}, 60_000);
afterAll(async () => s?.close());

const small = { provider: 'scripted', model: 'small-8k' } as const;
/** A conversation over the 8k model's usable window (about 8,000 estimated tokens of 6,758). */
const OVER = { turns: 60, words: 50 };

describe('summaries', () => {
  it('re-compaction hands the previous summary to the summariser and never loses it', async () => {
    const { session_id } = await chatSession(s, OVER);
    const first = GOOD_SUMMARY.replace('Keep the session working.', 'Migrate billing to Postgres (MARKER-GOAL-7).');
    s.provider.script(summaryTurn(first));
    const before = summariserRequests(s).length;
    expect(await compactNow(s, { session_id, ...small })).toMatchObject({ status: 'compacted', stage: 'summary' });
    const firstRequest = userText(summariserRequests(s)[before]!);
    expect(firstRequest).toContain('(none yet: this is the first summary of this session)');

    await appendAll(s, session_id, chat({ ...OVER, turns: 40 }, 60));
    s.provider.script(summaryTurn('Summary: more turns happened.')); // a poor reply: no sections at all
    expect(await compactNow(s, { session_id, ...small })).toMatchObject({ status: 'compacted', stage: 'summary' });
    const secondRequest = userText(summariserRequests(s)[summariserRequests(s).length - 1]!);
    const previous = secondRequest.slice(
      secondRequest.indexOf('<previous-summary>'),
      secondRequest.indexOf('</previous-summary>'),
    );
    expect(previous).toContain('MARKER-GOAL-7');
    // The span handed over starts after what the first compaction summarised.
    expect(secondRequest).not.toContain('turn 0:');

    const [summary] = (await contextOf(s, session_id)).messages;
    expect(textOf(summary!.message)).toContain('MARKER-GOAL-7');
    expect(textOf(summary!.message)).toContain('Summary: more turns happened.');
    expect(await compactionEntries(s, session_id)).toHaveLength(2);
  }, 60_000);
});

describe('cheap stages first', () => {
  it('caps one oversized function result (head and tail kept, the cut said) without a model call', async () => {
    const session_id = newSessionId();
    await s.client.bus.call(contracts.session.ensure, { session_id });
    const lines = Array.from({ length: 1_200 }, (_, i) => `row ${i}: ${prose(5, i)}`);
    lines[600] = 'row 600: refund REF-998877 issued for /billing/2026/11.csv';
    const [, , resultId] = await appendAll(s, session_id, [
      { role: 'user', content: 'export the billing rows' },
      assistantMessage([
        {
          type: 'function_call',
          id: 'c1',
          name: 'agent_trigger',
          arguments: { function_id: 'db::export', payload: {} },
        },
      ]),
      resultMessage('c1', 'db::export', lines.join('\n')),
    ]);
    const calls = s.provider.requests.length;
    const result = await compactNow(s, { session_id, ...small });
    expect(result).toMatchObject({ status: 'compacted', stage: 'cap', summariser_calls: 0 });
    expect(s.provider.requests.length).toBe(calls);

    const context = (await contextOf(s, session_id)).messages;
    const capped = context.find((m) => m.entry_id === resultId)!;
    const text = textOf(capped.message);
    expect(text.startsWith('row 0: ')).toBe(true);
    expect(text.endsWith(lines[1_199]!)).toBe(true);
    expect(text).toMatch(/\[\.\.\. \d+ characters \(lines \d+-\d+ of 1200\) cut by context compaction/);
    // What was cut is in the ledger, sent in front.
    expect(textOf(context[0]!.message)).toContain('REF-998877');
    expect(textOf(context[0]!.message)).toContain('/billing/2026/11.csv');
    // The transcript is unchanged.
    const { entry } = await s.client.bus.call(contracts.session.getEntry, { session_id, entry_id: resultId! });
    expect(JSON.stringify(entry)).toContain('row 600: refund REF-998877');
    expect((await plan(s, { session_id, ...small })).needs_compaction).toBe(false);
  }, 60_000);

  it('prunes old outputs before summarising, keeping recent ones and their facts', async () => {
    const { session_id, ids } = await chatSession(s, { turns: 30, words: 10, toolEvery: 2, resultLines: 30 });
    const calls = s.provider.requests.length;
    const result = await compactNow(s, { session_id, ...small });
    expect(result).toMatchObject({ status: 'compacted', stage: 'prune', summariser_calls: 0 });
    expect(s.provider.requests.length).toBe(calls);
    const context = (await contextOf(s, session_id)).messages;
    const results = context.filter((m) => m.message.role === 'function_result');
    expect(textOf(results[0]!.message)).toMatch(/^\[output of fs::read pruned by context compaction/);
    expect(textOf(results[results.length - 1]!.message)).toContain("export const v28_1 = '");
    expect(textOf(context[0]!.message)).toContain('MOD-00042');
    // Every entry is still sent (only outputs were shortened), and nothing is orphaned.
    expect(context.map((m) => m.entry_id).slice(1)).toEqual(ids);
    expect(orphans(context.map((m) => m.message))).toEqual([]);
  }, 60_000);

  it('never rewrites a signed-reasoning model’s context: summarises whole turns and keeps them verbatim', async () => {
    const shape = { turns: 30, words: 10, toolEvery: 2, resultLines: 30, thinking: true };
    const control = await chatSession(s, shape);
    expect(await compactNow(s, { session_id: control.session_id, ...small })).toMatchObject({ stage: 'prune' });

    const signed = await chatSession(s, { ...shape, model: 'signed-8k' });
    const result = await compactNow(s, { session_id: signed.session_id, provider: 'scripted', model: 'signed-8k' });
    expect(result).toMatchObject({ status: 'compacted', stage: 'summary' });
    const [entry] = await compactionEntries(s, signed.session_id);
    expect(entry!.replaced_results).toBeUndefined();
    const context = (await contextOf(s, signed.session_id)).messages.slice(1);
    expect(context[0]!.message.role).toBe('user');
    const original = new Map(signed.ids.map((id, i) => [id, signed.messages[i]]));
    for (const m of context) expect(m.message).toEqual(original.get(m.entry_id));
    expect(orphans(context.map((m) => m.message))).toEqual([]);
  }, 60_000);
});

describe('safety', () => {
  it('does not store a summary that does not help, does not retry it in a loop, and reuses it later', async () => {
    const { session_id } = await chatSession(s, OVER);
    const huge = GOOD_SUMMARY.replace('- nothing else', `- PAID-FOR ${prose(6_000)}`);
    s.provider.script(summaryTurn(huge));
    const before = summariserRequests(s).length;
    const result = await compactNow(s, { session_id, ...small });
    expect(result).toMatchObject({ status: 'did_not_help', stage: 'summary', summariser_calls: 1 });
    expect(await compactionEntries(s, session_id)).toHaveLength(0);
    expect(summariserRequests(s).length).toBe(before + 1);

    // The same point again: answered at once, no new summariser call.
    expect(await compactNow(s, { session_id, ...small })).toMatchObject({
      status: 'did_not_help',
      summariser_calls: 0,
    });
    expect(summariserRequests(s).length).toBe(before + 1);
    const state = await getState(s, session_id);
    expect(state).toMatchObject({ consecutive_failures: 1, breaker_open: false, pending_summary: expect.anything() });

    // Once the session grows, the paid-for summary is the starting point: only the new part is sent.
    await appendAll(s, session_id, chat({ ...OVER, turns: 6 }, 60));
    const next = await compactNow(s, { session_id, ...small });
    expect(next).toMatchObject({ status: 'compacted', stage: 'summary', summariser_calls: 1 });
    const request = userText(summariserRequests(s)[summariserRequests(s).length - 1]!);
    expect(request).toContain('PAID-FOR');
    expect(request).not.toContain('turn 0:');
    expect(await getState(s, session_id)).toMatchObject({ consecutive_failures: 0, pending_summary: null });
  }, 60_000);

  it('opens a circuit breaker after 3 failures in a row; /compact closes it', async () => {
    const { session_id } = await chatSession(s, OVER);
    const failing = () =>
      summaryTurn('', { steps: [], fail: { message: 'summariser down', kind: 'server', retryable: false } });
    s.provider.script(failing(), failing(), failing());
    for (let i = 1; i <= 3; i++) {
      const r = await compactNow(s, { session_id, ...small });
      expect(r.status).toBe('failed');
      expect(r.message).toContain('summariser down');
    }
    const state = await getState(s, session_id);
    expect(state).toMatchObject({ consecutive_failures: 3, breaker_open: true, last_failure: { status: 'failed' } });
    const calls = summariserRequests(s).length;
    expect(await compactNow(s, { session_id, ...small })).toMatchObject({ status: 'breaker_open' });
    expect(summariserRequests(s).length).toBe(calls);
    expect(await compactionEntries(s, session_id)).toHaveLength(0);

    expect(await compactSession(s, { session_id })).toMatchObject({ status: 'compacted', stage: 'summary' });
    expect(await getState(s, session_id)).toMatchObject({
      consecutive_failures: 0,
      breaker_open: false,
      compactions: 1,
    });
    expect((await plan(s, { session_id, ...small })).needs_compaction).toBe(false);
  }, 60_000);

  it('sends /compact focus instructions to the summariser', async () => {
    const { session_id } = await chatSession(s, { turns: 10 });
    await compactSession(s, { session_id, instructions: 'Focus on the billing migration.' });
    expect(userText(summariserRequests(s)[summariserRequests(s).length - 1]!)).toContain(
      '<focus>\nFocus on the billing migration.\n</focus>',
    );
  }, 60_000);

  it('compacts once for concurrent pre-flights: the second waits and finds the request fits', async () => {
    const { session_id } = await chatSession(s, OVER);
    const results = await Promise.all([
      compactNow(s, { session_id, ...small }),
      compactNow(s, { session_id, ...small }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['compacted', 'not_needed']);
    expect(await compactionEntries(s, session_id)).toHaveLength(1);
  }, 60_000);

  it('compacts on a provider overflow even when the estimate says the request fits', async () => {
    const { session_id } = await chatSession(s, { turns: 18 });
    const p = await plan(s, { session_id, ...small });
    expect(p.needs_compaction).toBe(false);
    expect(await compactNow(s, { session_id, ...small })).toMatchObject({ status: 'not_needed' });
    const r = await compactNow(s, { session_id, ...small, reason: 'overflow' });
    expect(r).toMatchObject({ status: 'compacted' });
    expect(r.tokens_after).toBeLessThan(r.tokens_before);
    expect((await plan(s, { session_id, ...small })).projected_tokens).toBeLessThan(p.projected_tokens);
  }, 60_000);

  it('projects from the usage the provider reported, plus what was appended since', async () => {
    const session_id = newSessionId();
    await s.client.bus.call(contracts.session.ensure, { session_id });
    const [, answer] = await appendAll(s, session_id, [
      { role: 'user', content: 'hello' },
      assistantMessage([{ type: 'text', text: 'hi there' }], { input: 5_000, output: 10 }),
      { role: 'user', content: 'and now?' },
    ]);
    const p = await plan(s, { session_id, ...small });
    expect(p).toMatchObject({ basis: 'usage', anchor_entry_id: answer, needs_compaction: false });
    expect(p.projected_tokens).toBe(5_000 + p.estimated_tokens);
    expect(p.estimated_tokens).toBeGreaterThan(5);
    expect(p.estimated_tokens).toBeLessThan(40);
  }, 60_000);
});

describe('bad input', () => {
  const nothingStored = async (session_id: string) => {
    expect(
      await s.client.bus.call(contracts.engine.stateGet, { scope: 'compaction', key: `health:${session_id}` }),
    ).toBeFalsy();
  };

  it('refuses unknown sessions, unknown models, cramped windows and long instructions, storing nothing', async () => {
    for (const fn of [contracts.compaction.plan, contracts.compaction.compactNow]) {
      expect(await codeOf(s.client.bus.call(fn, { session_id: 'no-such-session', ...small }))).toBe('not_found');
    }
    expect(await codeOf(compactSession(s, { session_id: 'no-such-session', ...small }))).toBe('not_found');
    expect(await codeOf(getState(s, 'no-such-session'))).toBe('not_found');
    await nothingStored('no-such-session');

    const { session_id } = await chatSession(s, OVER);
    const unknown = compactNow(s, { session_id, provider: 'scripted', model: 'no-such-model' });
    await expect(unknown).rejects.toMatchObject({
      code: 'not_found',
      message: expect.stringContaining('context window is unknown'),
    });
    const cramped = compactNow(s, { session_id, provider: 'scripted', model: 'cramped' });
    await expect(cramped).rejects.toMatchObject({
      code: 'invalid_payload',
      message: expect.stringContaining('leaves'),
    });
    const long = compactSession(s, { session_id, instructions: 'x'.repeat(2_001) });
    await expect(long).rejects.toMatchObject({
      code: 'invalid_payload',
      message: expect.stringContaining('at most 2000'),
    });
    expect(await codeOf(s.client.bus.invoke('compaction::compact_session', { session_id, provider: 'scripted' }))).toBe(
      'invalid_payload',
    );
    const empty = newSessionId();
    await s.client.bus.call(contracts.session.ensure, { session_id: empty });
    expect(await codeOf(compactSession(s, { session_id: empty }))).toBe('invalid_payload');
    expect(await compactionEntries(s, session_id)).toHaveLength(0);
    await nothingStored(session_id);
  }, 60_000);
});
