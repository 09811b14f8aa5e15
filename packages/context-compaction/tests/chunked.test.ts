import { codeOf } from '@iii-harness/testing';
import { chatSession, summariserRequests, userText } from './helpers.js';
import {
  compactionEntries,
  compactSession,
  contextOf,
  getState,
  type Stack,
  startStack,
  summaryTurn,
  textOf,
} from './stack.js';

/**
 * A summariser with a 3,000-token window (configured, instead of the session's model) facing a
 * history several times that: the span goes in chunks, each folded into the running summary.
 */

let s: Stack;
beforeAll(async () => {
  s = await startStack({ compaction: { summariser: { provider: 'scripted', model: 'tiny-3k' }, busy_wait_ms: 0 } });
}, 60_000);
afterAll(async () => s?.close());

const summaryWith = (marker: string) =>
  `## Goal\nFinish the port (${marker})\n## Progress\n### Done\n- chunk ${marker}\n## Critical context\n- ${marker} seen`;

it('lets one compaction of a session run at a time', async () => {
  const { session_id } = await chatSession(s, { turns: 30, words: 50, model: 'big-32k' });
  s.provider.script(summaryTurn(summaryWith('SLOW'), { delay_ms: 40, split: 20 }));
  const before = summariserRequests(s).length;
  const results = await Promise.all([
    compactSession(s, { session_id, provider: 'scripted', model: 'big-32k' }),
    (async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return compactSession(s, { session_id, provider: 'scripted', model: 'big-32k' });
    })(),
  ]);
  expect(results.map((r) => r.status).sort()).toEqual(['busy', 'compacted']);
  // The one that found the lease taken never called the summariser.
  expect(summariserRequests(s).length).toBe(before + 1);
  expect(await compactionEntries(s, session_id)).toHaveLength(1);
  expect((await getState(s, session_id)).lease.held).toBe(false);
  expect(await codeOf(getState(s, 'nobody-here'))).toBe('not_found');
}, 120_000);

it('summarises a history larger than the summariser window in chunks, each updating the running summary', async () => {
  const { session_id } = await chatSession(s, { turns: 120, words: 50, model: 'big-32k' });
  for (let i = 1; i <= 30; i++) s.provider.script(summaryTurn(summaryWith(`CHUNK-${i}`)));
  const before = summariserRequests(s).length;
  const result = await compactSession(s, { session_id, provider: 'scripted', model: 'big-32k' });
  expect(result).toMatchObject({ status: 'compacted', stage: 'summary' });
  const requests = summariserRequests(s).slice(before);
  expect(result.summariser_calls).toBe(requests.length);
  expect(requests.length).toBeGreaterThanOrEqual(3);
  console.log(`${requests.length} summariser calls for one compaction`);
  for (const [i, request] of requests.entries()) {
    const text = userText(request);
    expect(text).toContain(`part="${i + 1} of ${requests.length}"`);
    // Every chunk fits the summariser: its request with the reply's room is inside 3,000 tokens.
    expect(text.length / 4 + 400).toBeLessThan(3_000);
    if (i > 0) expect(text.slice(0, text.indexOf('</previous-summary>'))).toContain(`CHUNK-${i}`);
  }
  const summary = textOf((await contextOf(s, session_id)).messages[0]!.message);
  expect(summary).toContain(`Finish the port (CHUNK-${requests.length})`);
}, 120_000);
