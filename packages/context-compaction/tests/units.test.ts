import type { Message } from '@iii-harness/types';
import { chooseCut, recentFrom, validCuts } from '../src/cuts.js';
import { headTail } from '../src/head-tail.js';
import { factsOf, mergeLedger, renderLedger } from '../src/ledger.js';
import { mergeSections, renderSections } from '../src/summary.js';
import { estimateTokens } from '../src/tokens.js';
import { assistantMessage, call, resultMessage } from './stack.js';

const u = (text: string): Message => ({ role: 'user', content: text });
const a = (text: string): Message => assistantMessage([{ type: 'text', text }]);
const ask = (...ids: string[]): Message =>
  assistantMessage(ids.map((id) => call(id, 'fs::read', { path: `/x/${id}` })));
const r = (id: string): Message => resultMessage(id, 'fs::read', `content of ${id}`);
const counter = { encoding: 'estimate' as const, text: estimateTokens };

describe('cut points', () => {
  it('never separates a call from its result, pairing reused call ids by position', () => {
    //                 0       1              2       3       4       5          6       7
    const messages = [u('q'), ask('c1', 'c2'), r('c1'), r('c2'), a('x'), ask('c1'), r('c1'), a('y')];
    expect(validCuts(messages)).toEqual([true, true, false, false, true, true, false, true]);
  });

  it('lets a call that never got a result be cut after', () => {
    expect(validCuts([u('q'), ask('lost'), u('again'), a('ok')])).toEqual([true, true, true, true]);
  });

  it('keeps whole recent exchanges within the budget, else recent complete calls, else the least', () => {
    const m = (message: Message, tokens: number) => ({ message, tokens });
    const messages = [m(u('1'), 10), m(a('1'), 10), m(u('2'), 10), m(ask('c'), 10), m(r('c'), 10), m(a('2'), 10)];
    expect(chooseCut(messages, 45, false)).toBe(2); // exchange 2 = 40 tokens
    expect(chooseCut(messages, 25, false)).toBe(5); // no exchange fits; the answer after the call does
    expect(chooseCut(messages, 5, false)).toBe(5); // nothing fits: keep the least allowed
    expect(chooseCut(messages, 25, true)).toBe(2); // whole exchanges only: the last one, over budget
    expect(chooseCut([m(u('only'), 10)], 100, false)).toBeNull();
    expect(recentFrom(messages, 25)).toBe(4);
  });
});

describe('fact ledger', () => {
  it('takes functions, files, ids and values from calls and JSON results', () => {
    const facts = [
      ...factsOf(
        assistantMessage([
          call('1', 'fs::write_file', { path: 'src/app.ts', content: 'x' }),
          call('2', 'billing::get', { invoice_id: 'INV-30017', amount: 48213.75 }),
        ]),
        40,
      ),
      ...factsOf(
        resultMessage(
          '2',
          'billing::get',
          JSON.stringify({ customer: { id: 'cus_9f8x7' }, url: 'https://pay.example.test/i/1' }),
        ),
        40,
      ),
    ];
    expect(facts).toEqual(
      expect.arrayContaining([
        ['function', 'fs::write_file'],
        ['file_written', 'src/app.ts'],
        ['function', 'billing::get'],
        ['id', 'invoice_id=INV-30017'],
        ['value', 'amount=48213.75'],
        ['id', 'id=cus_9f8x7'],
        ['url', 'https://pay.example.test/i/1'],
      ]),
    );
  });

  it('finds paths, URLs, ids and numbers in plain text, and stops at the per-message cap', () => {
    const text = [
      'Read /srv/data/orders/2024.csv and lib/util/format.ts; see https://docs.example.test/a?b=1.',
      'Order ORD-771203 for user 0b4e6a2c-1f3d-4c5b-9a8e-7d6c5b4a3f21 at commit 9fceb02d, issue #4821.',
      'total: 12,345.67 USD and latency=183ms; version 1.2.3 is not a number.',
    ].join('\n');
    const values = factsOf(resultMessage('1', 'shell::run', text), 40).map((f) => f[1]);
    expect(values).toEqual(
      expect.arrayContaining([
        '/srv/data/orders/2024.csv',
        'lib/util/format.ts',
        'https://docs.example.test/a?b=1',
        'ORD-771203',
        '0b4e6a2c-1f3d-4c5b-9a8e-7d6c5b4a3f21',
        '9fceb02d',
        '#4821',
        'total: 12,345.67 USD',
        'latency=183ms',
      ]),
    );
    expect(values).not.toContain('1.2');
    expect(
      factsOf(resultMessage('1', 'ls', Array.from({ length: 100 }, (_, i) => `/d/f${i}/x.txt`).join('\n')), 7),
    ).toHaveLength(7);
  });

  it('deduplicates, refreshes what is seen again, and drops the oldest past its bounds', () => {
    const first = mergeLedger(
      { facts: [], dropped: 0 },
      [
        ['id', 'a'],
        ['id', 'b'],
        ['id', 'c'],
      ],
      { maxFacts: 3, maxTokens: 1_000 },
      counter,
    );
    const second = mergeLedger(
      first,
      [
        ['id', 'a'],
        ['id', 'd'],
      ],
      { maxFacts: 3, maxTokens: 1_000 },
      counter,
    );
    expect(second).toEqual({
      facts: [
        ['id', 'c'],
        ['id', 'a'],
        ['id', 'd'],
      ],
      dropped: 1,
    });
    const tight = mergeLedger(second, [], { maxFacts: 3, maxTokens: 6 }, counter);
    expect(tight.facts).toEqual([
      ['id', 'a'],
      ['id', 'd'],
    ]);
    expect(renderLedger(tight)).toContain('- a\n- d');
    expect(renderLedger(tight)).toContain('2 older facts were dropped');
  });
});

describe('structured summary', () => {
  const previous = mergeSections(
    null,
    '## Goal\nShip v2\n## Decisions\n- Postgres (needs transactions)\n## Next steps\n- migrate',
  );

  it('updates sections in place and keeps what a reply leaves out', () => {
    const next = mergeSections(previous, '## Next steps\n- deploy\n## Progress\n### Done\n- migrated');
    expect(next).toMatchObject({
      goal: 'Ship v2',
      decisions: '- Postgres (needs transactions)',
      next_steps: '- deploy',
      done: '- migrated',
    });
  });

  it('never empties a section that only grows, and keeps a careless reply as notes', () => {
    const careless = mergeSections(previous, '## Goal\n(none)\n## Next steps\n(none)');
    expect(careless.goal).toBe('Ship v2');
    expect(careless.next_steps).toBe('');
    const poor = mergeSections(previous, 'I summarised the conversation.');
    expect(poor).toMatchObject({ goal: 'Ship v2', notes: 'I summarised the conversation.' });
    expect(renderSections(poor)).toContain('## Other notes\nI summarised the conversation.');
  });
});

describe('head and tail', () => {
  it('keeps the head and the tail and says what was cut', () => {
    const text = Array.from({ length: 1_000 }, (_, i) => `line ${i}`).join('\n');
    const { text: out, cut, cutChars } = headTail(text, 1_000, 'cut for a test');
    expect(out.length).toBeLessThan(1_200);
    expect(out.startsWith('line 0\n')).toBe(true);
    expect(out.endsWith('line 999')).toBe(true);
    expect(out).toMatch(/\[\.\.\. \d+ characters \(lines \d+-\d+ of 1000\) cut for a test \.\.\.\]/);
    expect(cut.length).toBe(cutChars);
    expect(text.includes(cut)).toBe(true);
    expect(headTail('short', 1_000, 'x')).toEqual({ text: 'short', cut: '', cutChars: 0 });
  });
});
