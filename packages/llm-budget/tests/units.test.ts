import { costMicroUsd, foldLog, type LogEvent, periodAt, tokenPricesOf, worstCaseMicroUsd } from '../src/index.js';
import type { GrantRecord } from '../src/reservation-log.js';

const H = 3_600_000;

describe('calendar periods', () => {
  it('days start at local midnight, and DST days last 23 or 25 hours', () => {
    const spring = periodAt('day', 'America/New_York', Date.UTC(2026, 2, 8, 12), 0);
    expect(spring).toEqual({
      key: 'day:2026-03-08',
      label: '2026-03-08',
      start: Date.UTC(2026, 2, 8, 5),
      end: Date.UTC(2026, 2, 9, 4),
    });
    const fall = periodAt('day', 'America/New_York', Date.UTC(2026, 10, 1, 12), 0);
    expect(fall.end! - fall.start).toBe(25 * H);
    expect(periodAt('day', 'Asia/Kolkata', Date.UTC(2026, 0, 1, 20), 0)).toMatchObject({
      label: '2026-01-02',
      start: Date.UTC(2026, 0, 1, 18, 30),
    });
  });

  it('the last millisecond before local midnight is still the old day', () => {
    const midnight = Date.UTC(2026, 5, 1, 22); // 2026-06-02 00:00 in Paris (UTC+2)
    expect(periodAt('day', 'Europe/Paris', midnight - 1, 0).label).toBe('2026-06-01');
    expect(periodAt('day', 'Europe/Paris', midnight, 0).label).toBe('2026-06-02');
  });

  it('a day whose midnight is skipped by DST starts when the clocks jump', () => {
    // Chile springs forward at 24:00 on Saturday 2026-09-05: Sunday starts at 01:00 local (04:00 UTC).
    const sunday = periodAt('day', 'America/Santiago', Date.UTC(2026, 8, 6, 15), 0);
    expect(sunday.label).toBe('2026-09-06');
    expect(sunday.start).toBe(Date.UTC(2026, 8, 6, 4));
    expect(periodAt('day', 'America/Santiago', sunday.start - 1, 0).label).toBe('2026-09-05');
  });

  it('weeks start on Monday, months on the 1st, total at the budget start', () => {
    expect(periodAt('week', 'UTC', Date.UTC(2026, 2, 8, 23), 0)).toMatchObject({
      label: '2026-03-02',
      start: Date.UTC(2026, 2, 2),
      end: Date.UTC(2026, 2, 9),
    });
    expect(periodAt('week', 'UTC', Date.UTC(2026, 2, 9), 0).label).toBe('2026-03-09');
    expect(periodAt('month', 'Pacific/Auckland', Date.UTC(2026, 11, 31, 12), 0)).toMatchObject({
      label: '2027-01', // already New Year's Day in Auckland
      start: Date.UTC(2026, 11, 31, 11),
      end: Date.UTC(2027, 0, 31, 11),
    });
    expect(periodAt('total', 'UTC', 999, 123)).toEqual({ key: 'total', label: 'total', start: 123, end: null });
  });
});

describe('money', () => {
  const prices = tokenPricesOf({ input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 });

  it('prices exactly in integers and rounds up to whole micro-dollars', () => {
    expect(prices).toEqual({ input: 3_000_000, output: 15_000_000, cache_read: 300_000, cache_write: 3_750_000 });
    expect(
      costMicroUsd({ input_tokens: 1, output_tokens: 0, cache_read_tokens: 1, cache_write_tokens: 0 }, prices),
    ).toBe(4);
    const cheap = tokenPricesOf({ input: 0.075, output: 0.3, cache_read: 0.01875, cache_write: 0 });
    expect(cheap.cache_read).toBe(18_750);
    expect(
      costMicroUsd({ input_tokens: 1_000_000, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 }, cheap),
    ).toBe(75_000);
  });

  it('the worst case bounds every way the prompt can be billed', () => {
    const worst = worstCaseMicroUsd(1_000, 500, prices);
    for (const split of [
      { input_tokens: 1_000, cache_read_tokens: 0, cache_write_tokens: 0 },
      { input_tokens: 0, cache_read_tokens: 1_000, cache_write_tokens: 0 },
      { input_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 1_000 },
      { input_tokens: 333, cache_read_tokens: 333, cache_write_tokens: 334 },
    ])
      expect(costMicroUsd({ ...split, output_tokens: 500 }, prices)).toBeLessThanOrEqual(worst);
    expect(worst).toBe(3_750 + 7_500);
    expect(worstCaseMicroUsd(1_000, 500, null)).toBe(0);
  });
});

describe('the reservation log', () => {
  const request = {
    scopes: { workspace_id: 'w' },
    provider: 'p',
    model: 'm',
    input_tokens: 1,
    max_output_tokens: 2,
    min_output_tokens: 2,
  };
  const grant = { ns: 'r~1~0' } as GrantRecord;
  const claim = (at = 0, takeover_of?: number): LogEvent => ({
    type: 'claim',
    at,
    request,
    ...(takeover_of === undefined ? {} : { takeover_of }),
  });

  it('the first claim owns; later claims are duplicates unless they take over the current owner', () => {
    const view = foldLog([claim(), claim(), claim(5, 1), claim(6, 1)]);
    expect(view.accepted).toEqual([true, false, true, false]);
    expect(view).toMatchObject({ phase: 'owned', gen: 2 });
  });

  it('a deposed owner can no longer grant or refuse', () => {
    const view = foldLog([
      claim(),
      claim(5, 1),
      { type: 'grant', at: 6, gen: 1, grant },
      { type: 'refuse', at: 6, gen: 1, refusal: {} as never },
    ]);
    expect(view.accepted).toEqual([true, true, false, false]);
    expect(view.phase).toBe('owned');
  });

  it('an abandon stops a late grant; the next claim owns afresh', () => {
    const view = foldLog([
      claim(),
      { type: 'abandon', at: 9, gen: 1 },
      { type: 'grant', at: 10, gen: 1, grant },
      claim(11),
      { type: 'grant', at: 12, gen: 2, grant },
    ]);
    expect(view.accepted).toEqual([true, true, false, true, true]);
    expect(view).toMatchObject({ phase: 'granted', grantGen: 2 });
  });

  it('the first settlement after a grant wins; an abandon after a grant changes nothing', () => {
    const view = foldLog([
      claim(),
      { type: 'grant', at: 1, gen: 1, grant },
      { type: 'abandon', at: 2, gen: 1 },
      { type: 'expire', at: 3 },
      {
        type: 'commit',
        at: 4,
        usage: { input_tokens: 1, output_tokens: 1, cache_read_tokens: 0, cache_write_tokens: 0 },
      },
      { type: 'release', at: 5 },
    ]);
    expect(view.accepted).toEqual([true, true, false, true, false, false]);
    expect(view.settlement).toEqual({ kind: 'expire', at: 3 });
  });

  it('nothing settles a reservation that was never granted', () => {
    const view = foldLog([claim(), { type: 'commit', at: 1 }, { type: 'release', at: 2 }]);
    expect(view.accepted).toEqual([true, false, false]);
    expect(view.phase).toBe('owned');
  });
});
