import { contracts, type Message } from '@iii-harness/types';
import { prose, summariserRequests } from './helpers.js';
import {
  appendAll,
  assistantMessage,
  call,
  compactionEntries,
  compactSession,
  contextOf,
  newSessionId,
  resultMessage,
  type Stack,
  startStack,
} from './stack.js';

/**
 * 100 facts planted in function calls and results (paths, ids, amounts), each round's facts
 * followed by more conversation than the kept tail holds, and a compaction after every round:
 * 10 compactions by a summariser that answers the same useless sentence every time. What the
 * model still sees of the facts is the ledger's doing.
 */

const POOR = 'Summary: the user and the assistant talked about several things.';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ fallback: { steps: [{ text: POOR }] } });
}, 60_000);
afterAll(async () => s?.close());

function plantedRound(round: number): { messages: Message[]; facts: string[] } {
  const messages: Message[] = [];
  const facts: string[] = [];
  for (let k = 0; k < 10; k++) {
    const f = round * 10 + k;
    const id = `call_${f}`;
    if (k % 3 === 0) {
      const path = `/data/project/r${round}/file_${f}.csv`;
      facts.push(path);
      messages.push({ role: 'user', content: `load batch ${f}` });
      messages.push(assistantMessage([call(id, 'fs::read', { path })], {}, 'big-32k'));
      messages.push(resultMessage(id, 'fs::read', `read ${prose(8, f)}`));
    } else if (k % 3 === 1) {
      const invoice = `INV-${50_000 + f * 37}`;
      facts.push(invoice);
      messages.push({ role: 'user', content: `which invoice covers batch ${f}?` });
      messages.push(assistantMessage([call(id, 'billing::find', { batch: `b${f}` })], {}, 'big-32k'));
      messages.push(resultMessage(id, 'billing::find', JSON.stringify({ invoice_id: invoice, status: 'paid' })));
    } else {
      const amount = `7${f}31.25`;
      facts.push(amount);
      messages.push({ role: 'user', content: `what is the total of batch ${f}?` });
      messages.push(assistantMessage([call(id, 'billing::total', { batch: `b${f}` })], {}, 'big-32k'));
      messages.push(resultMessage(id, 'billing::total', `The total for batch ${f} came to ${amount} EUR after fees.`));
    }
    messages.push(assistantMessage([{ type: 'text', text: `noted batch ${f}` }], {}, 'big-32k'));
  }
  // More than the kept tail (a quarter of the usable window) holds, so the facts get compacted.
  for (let t = 0; t < 40; t++) {
    messages.push({ role: 'user', content: `round ${round} chat ${t}: ${prose(80, t)}` });
    messages.push(assistantMessage([{ type: 'text', text: prose(80, t + round) }], {}, 'big-32k'));
  }
  return { messages, facts };
}

it('keeps at least 95 of 100 planted facts through 10 compactions by a poor summariser', async () => {
  const session_id = newSessionId('facts');
  await s.client.bus.call(contracts.session.ensure, { session_id });
  const planted: string[] = [];
  for (let round = 0; round < 10; round++) {
    const { messages, facts } = plantedRound(round);
    planted.push(...facts);
    await appendAll(s, session_id, messages);
    const result = await compactSession(s, { session_id, provider: 'scripted', model: 'big-32k' });
    expect(result).toMatchObject({ status: 'compacted', stage: 'summary' });
  }
  expect(await compactionEntries(s, session_id)).toHaveLength(10);
  expect(summariserRequests(s).length).toBeGreaterThanOrEqual(10);

  const context = JSON.stringify((await contextOf(s, session_id)).messages);
  const kept = planted.filter((fact) => context.includes(fact));
  console.log(`planted facts still in the model's context after 10 compactions: ${kept.length} of ${planted.length}`);
  expect(planted).toHaveLength(100);
  expect(kept.length).toBeGreaterThanOrEqual(95);
  // The summariser's text did not carry them: it never saw most of them in its reply.
  expect(POOR).not.toMatch(/INV-|\.csv|31\.25/);
}, 300_000);
