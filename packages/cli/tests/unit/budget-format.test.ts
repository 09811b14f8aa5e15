import type { BudgetUsage } from '@iii-harness/types';
import { parseUsd, sessionBudgetLines, tokens, usageText, usd, usedFraction } from '../../src/budget/format.js';

const usage = (over: Partial<BudgetUsage> = {}): BudgetUsage => ({
  budget_id: 'b1',
  scope: { kind: 'workspace', id: 'acme' },
  period: 'day',
  period_start: 0,
  period_end: 1,
  period_label: '2026-12-06',
  cap_micro_usd: 5_000_000,
  spent_micro_usd: 10_500,
  spent_tokens: 1_500,
  reserved_micro_usd: 0,
  reserved_tokens: 0,
  remaining_micro_usd: 4_989_500,
  ...over,
});

describe('budget amounts', () => {
  test('dollars typed become exact micro-dollars; anything else is refused', () => {
    expect(parseUsd('5')).toBe(5_000_000);
    expect(parseUsd('$2.50')).toBe(2_500_000);
    expect(parseUsd('0.000001')).toBe(1);
    expect(parseUsd('0.1')).toBe(100_000);
    // 0.1 + 0.2 as floats is 0.30000000000000004: no float on the way.
    expect(parseUsd('0.3')).toBe(300_000);
    for (const bad of ['', '-1', '1e3', '0.0000001', 'abc', '1.2.3', '$'])
      expect({ bad, parsed: parseUsd(bad) }).toEqual({ bad, parsed: undefined });
  });

  test('micro-dollars read as dollars: cents when exact, else every decimal that matters', () => {
    expect(usd(5_000_000)).toBe('$5.00');
    expect(usd(0)).toBe('$0.00');
    expect(usd(10_500)).toBe('$0.0105');
    expect(usd(4_989_500)).toBe('$4.9895');
    expect(usd(1)).toBe('$0.000001');
    expect(usd(1_234_567_890_000)).toBe('$1,234,567.89');
    expect(tokens(999)).toBe('999');
    expect(tokens(150_000)).toBe('150k');
    expect(tokens(2_500_000)).toBe('2.5M');
  });

  test('usage reads as spent and left of the cap in the period; reservations in flight are named', () => {
    expect(usageText(usage())).toBe('$0.0105 spent · $4.9895 left of $5.00 today');
    const both = usage({
      period: 'total',
      cap_tokens: 100_000,
      remaining_tokens: 98_500,
      reserved_micro_usd: 20_000,
      reserved_tokens: 600,
    });
    expect(usageText(both)).toBe(
      '$0.0105 spent · $4.9895 left of $5.00 · 1500 tokens spent · 98.5k left of 100k in total ($0.02, 600 tokens reserved by calls in flight)',
    );
    expect(usedFraction(usage({ spent_micro_usd: 4_100_000 }))).toBeCloseTo(0.82);
  });

  test("a session's lines: its own budget reads as this session; none without the worker", () => {
    const own = usage({ scope: { kind: 'session', id: 'S' }, spent_micro_usd: 4_500_000 });
    expect(sessionBudgetLines({ available: true, usage: [usage(), own] }, 'S')).toEqual([
      { text: 'budget workspace:acme: $0.0105 spent · $4.9895 left of $5.00 today', tight: false },
      { text: expect.stringMatching(/^budget this session: \$4\.50 spent/), tight: true },
    ]);
    expect(sessionBudgetLines({ available: false }, 'S')).toEqual([]);
  });
});
