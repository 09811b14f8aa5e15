import { collectStream, eventually } from '@iii-harness/testing';
import { BUDGET_ALERTS_STREAM, type BudgetAlertEvent, type ContractInput, contracts } from '@iii-harness/types';
import { reserveArgs, type Stack, startStack, W } from './stack.js';

const { budget } = contracts;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

let n = 0;
/** A fresh workspace per test, so tests never share a budget. */
const workspace = () => `ws-${++n}`;

const bus = () => stack.client.bus;
const create = (input: ContractInput<typeof budget.create>) => bus().call(budget.create, input);
/** A fresh workspace with one budget on it: $1 a day unless `fields` say otherwise. */
const workspaceBudget = async (fields: Partial<ContractInput<typeof budget.create>> = {}) => {
  const ws = workspace();
  const { budget: b } = await create({
    scope: { kind: 'workspace', id: ws },
    period: 'day',
    cap_micro_usd: 1_000_000,
    ...fields,
  });
  return { ws, b };
};
const usageOf = async (budget_id: string) => (await bus().call(budget.usage, { budget_id })).usage[0]!;

const USAGE = { input_tokens: 800, cache_read_tokens: 200, output_tokens: 500 }; // 2,400 + 60 + 7,500 µ$

describe('budgets', () => {
  it('documents every function with a description and both schemas', async () => {
    for (const c of Object.values(budget)) {
      const info = await bus().call(contracts.engine.functionsInfo, { function_id: c.id });
      expect(info.description).toEqual(c.description);
      expect(info.request_schema).toMatchObject({ type: 'object' });
    }
  });

  it('creates, gets, lists by scope, updates, resets and deletes', async () => {
    const ws = workspace();
    const { budget: b } = await create({
      name: 'team',
      scope: { kind: 'workspace', id: ws },
      period: 'month',
      cap_micro_usd: 5_000_000,
    });
    expect(b).toMatchObject({
      scope: { kind: 'workspace', id: ws },
      time_zone: 'UTC',
      alert_thresholds_pct: [50, 80, 100],
      allow_unpriced: false,
      epoch: 0,
    });
    expect((await bus().call(budget.get, { budget_id: b.budget_id })).budget).toEqual(b);
    const other = await create({ scope: { kind: 'agent', id: ws }, period: 'day', cap_tokens: 10 });
    expect((await bus().call(budget.list, { scope: { kind: 'workspace', id: ws } })).budgets).toEqual([b]);
    expect((await bus().call(budget.list, {})).budgets.map((x) => x.budget_id)).toEqual(
      expect.arrayContaining([b.budget_id, other.budget.budget_id]),
    );

    const updated = await bus().call(budget.update, {
      budget_id: b.budget_id,
      cap_tokens: 1_000,
      cap_micro_usd: null,
    });
    expect(updated.budget.cap_micro_usd).toBeUndefined();
    expect(updated.budget.cap_tokens).toBe(1_000);
    await expect(bus().call(budget.update, { budget_id: b.budget_id, cap_tokens: null })).rejects.toMatchObject({
      code: 'invalid_payload',
    });

    const alerts = await bus().call(budget.alertSet, { budget_id: b.budget_id, thresholds_pct: [90, 25] });
    expect(alerts.budget.alert_thresholds_pct).toEqual([25, 90]);

    await bus().call(budget.delete, { budget_id: b.budget_id });
    await expect(bus().call(budget.get, { budget_id: b.budget_id })).rejects.toMatchObject({ code: 'not_found' });
    expect((await bus().call(budget.list, { scope: { kind: 'workspace', id: ws } })).budgets).toEqual([]);
    await expect(bus().call(budget.reset, { budget_id: b.budget_id })).rejects.toMatchObject({ code: 'not_found' });
    // A write to a deleted budget leaves nothing behind.
    expect(await bus().call(contracts.engine.stateGet, { scope: 'budget_budgets', key: b.budget_id })).toBeFalsy();
  });
});

describe('reserve, commit, release', () => {
  it('reserves the worst case (dearest input price + max output), commits the actual cost', async () => {
    const { ws, b } = await workspaceBudget();
    const r = await bus().call(budget.reserve, reserveArgs(ws));
    expect(r).toMatchObject({
      status: 'reserved',
      max_output_tokens: 1_000,
      shrunk: false,
      reserved_micro_usd: W,
      reserved_tokens: 2_000,
      priced: true,
      budgets: [{ budget_id: b.budget_id, remaining_micro_usd: 1_000_000 - W }],
    });
    expect(await usageOf(b.budget_id)).toMatchObject({ reserved_micro_usd: W, spent_micro_usd: 0 });

    const settled = await bus().call(budget.commit, { reservation_id: r.reservation_id, usage: USAGE });
    expect(settled).toEqual({
      reservation_id: r.reservation_id,
      status: 'committed',
      duplicate: false,
      cost_micro_usd: 9_960,
      tokens: 1_500,
      reserved_micro_usd: W,
      overrun_micro_usd: 0,
      priced: true,
    });
    expect(await usageOf(b.budget_id)).toMatchObject({
      reserved_micro_usd: 0,
      reserved_tokens: 0,
      spent_micro_usd: 9_960,
      spent_tokens: 1_500,
      remaining_micro_usd: 1_000_000 - 9_960,
    });
  });

  it('a redelivered commit counts once; a late release changes nothing', async () => {
    const { ws, b } = await workspaceBudget();
    const r = await bus().call(budget.reserve, reserveArgs(ws));
    const first = await bus().call(budget.commit, { reservation_id: r.reservation_id, usage: USAGE });
    const again = await bus().call(budget.commit, { reservation_id: r.reservation_id, usage: USAGE });
    const concurrent = await Promise.all(
      [1, 2, 3].map(() => bus().call(budget.commit, { reservation_id: r.reservation_id, usage: USAGE })),
    );
    const late = await bus().call(budget.release, { reservation_id: r.reservation_id });
    expect(first.duplicate).toBe(false);
    for (const dup of [again, ...concurrent, late]) expect(dup).toEqual({ ...first, duplicate: true });
    expect(await usageOf(b.budget_id)).toMatchObject({ spent_micro_usd: 9_960, reserved_micro_usd: 0 });
  });

  it('concurrent commits of one reservation: exactly one counts', async () => {
    const { ws, b } = await workspaceBudget();
    const r = await bus().call(budget.reserve, reserveArgs(ws));
    const results = await Promise.all(
      Array.from({ length: 8 }, () => bus().call(budget.commit, { reservation_id: r.reservation_id, usage: USAGE })),
    );
    expect(results.filter((x) => !x.duplicate)).toHaveLength(1);
    expect(await usageOf(b.budget_id)).toMatchObject({ spent_micro_usd: 9_960, reserved_micro_usd: 0 });
  });

  it('release gives the reservation back; a commit without usage charges the full reservation', async () => {
    const { ws, b } = await workspaceBudget();
    const r1 = await bus().call(budget.reserve, reserveArgs(ws));
    expect(await bus().call(budget.release, { reservation_id: r1.reservation_id })).toMatchObject({
      status: 'released',
      cost_micro_usd: 0,
    });
    const r2 = await bus().call(budget.reserve, reserveArgs(ws));
    expect(await bus().call(budget.commit, { reservation_id: r2.reservation_id })).toMatchObject({
      status: 'committed',
      cost_micro_usd: W,
      tokens: 2_000,
    });
    expect(await usageOf(b.budget_id)).toMatchObject({ spent_micro_usd: W, reserved_micro_usd: 0 });
  });

  it('usage above the reservation is counted in full and reported as overrun', async () => {
    const { ws, b } = await workspaceBudget();
    const r = await bus().call(budget.reserve, reserveArgs(ws));
    const settled = await bus().call(budget.commit, {
      reservation_id: r.reservation_id,
      usage: { input_tokens: 3_000, output_tokens: 1_000 },
    });
    expect(settled).toMatchObject({ cost_micro_usd: 24_000, overrun_micro_usd: 24_000 - W });
    expect((await usageOf(b.budget_id)).spent_micro_usd).toBe(24_000);
  });

  it('checks every covering budget; a refusal by one gives back the holds on the others', async () => {
    const ws = workspace();
    const scopes = { workspace_id: ws, agent_id: `agent-${ws}`, session_id: `session-${ws}` };
    const w = await create({ scope: { kind: 'workspace', id: ws }, period: 'day', cap_micro_usd: 1_000_000 });
    const a = await create({ scope: { kind: 'agent', id: scopes.agent_id }, period: 'total', cap_tokens: 100_000 });
    const s = await create({ scope: { kind: 'session', id: scopes.session_id }, period: 'week', cap_micro_usd: 2 * W });
    const ok = await bus().call(budget.reserve, reserveArgs(ws, { scopes, min_output_tokens: 1_000 }));
    expect(ok.status).toBe('reserved');
    if (ok.status !== 'reserved') return;
    expect(ok.budgets.map((x) => x.budget_id).sort()).toEqual(
      [w.budget.budget_id, a.budget.budget_id, s.budget.budget_id].sort(),
    );
    await bus().call(budget.reserve, reserveArgs(ws, { scopes, min_output_tokens: 1_000 }));
    const refused = await bus().call(budget.reserve, reserveArgs(ws, { scopes, min_output_tokens: 1_000 }));
    expect(refused).toMatchObject({
      status: 'exceeded',
      budget_id: s.budget.budget_id,
      scope: `session:${scopes.session_id}`,
      reason: 'cap_micro_usd',
      remaining_micro_usd: 0,
      needed_micro_usd: W,
    });
    if (refused.status === 'exceeded') expect(refused.message).toMatch(/has \$0\.000000 left of \$0\.037500/);
    // Only the two granted reservations are held anywhere.
    expect(await usageOf(w.budget.budget_id)).toMatchObject({ reserved_micro_usd: 2 * W });
    expect(await usageOf(a.budget.budget_id)).toMatchObject({ reserved_tokens: 4_000 });
    expect(await usageOf(s.budget.budget_id)).toMatchObject({ reserved_micro_usd: 2 * W });
    const both = await bus().call(budget.usage, { scopes });
    expect(both.usage).toHaveLength(3);
  });

  it('offers a smaller output cap when the worst case does not fit but a smaller one does', async () => {
    const ws = workspace();
    // Room for the prompt (3,750 µ$) and exactly 400 output tokens (6,000 µ$).
    const { budget: b } = await create({ scope: { kind: 'workspace', id: ws }, period: 'day', cap_micro_usd: 9_750 });
    const r = await bus().call(budget.reserve, reserveArgs(ws, { max_output_tokens: 2_000, min_output_tokens: 100 }));
    expect(r).toMatchObject({
      status: 'reserved',
      shrunk: true,
      max_output_tokens: 400,
      requested_max_output_tokens: 2_000,
      reserved_micro_usd: 9_750,
      budgets: [{ budget_id: b.budget_id, remaining_micro_usd: 0 }],
    });
    // The smaller cap is what gets held and settled.
    await bus().call(budget.commit, {
      reservation_id: r.reservation_id,
      usage: { input_tokens: 1_000, output_tokens: 400 },
    });
    expect(await usageOf(b.budget_id)).toMatchObject({ spent_micro_usd: 3_000 + 6_000, reserved_micro_usd: 0 });
    // 750 µ$ left: 50 output tokens would fit, below the minimum of 100: refused, naming what is left.
    const refused = await bus().call(
      budget.reserve,
      reserveArgs(ws, { input_tokens: 0, max_output_tokens: 2_000, min_output_tokens: 100 }),
    );
    expect(refused).toMatchObject({ status: 'exceeded', remaining_micro_usd: 750, needed_micro_usd: 1_500 });
  });

  it('shrinks to fit a token cap too', async () => {
    const ws = workspace();
    await create({ scope: { kind: 'workspace', id: ws }, period: 'day', cap_tokens: 1_500 });
    const r = await bus().call(budget.reserve, reserveArgs(ws, { max_output_tokens: 4_000, min_output_tokens: 200 }));
    expect(r).toMatchObject({ status: 'reserved', max_output_tokens: 500, reserved_tokens: 1_500 });
  });

  it('refuses an unpriced or unknown model under a USD cap unless the budget allows it', async () => {
    const { ws, b } = await workspaceBudget();
    for (const model of ['local-model', 'no-such-model']) {
      const r = await bus().call(budget.reserve, reserveArgs(ws, { model }));
      expect(r).toMatchObject({ status: 'exceeded', reason: 'unpriced_model', budget_id: b.budget_id });
    }
    expect(await usageOf(b.budget_id)).toMatchObject({ reserved_micro_usd: 0, reserved_tokens: 0 });
    await bus().call(budget.update, { budget_id: b.budget_id, allow_unpriced: true });
    const allowed = await bus().call(budget.reserve, reserveArgs(ws, { model: 'local-model' }));
    expect(allowed).toMatchObject({ status: 'reserved', priced: false, reserved_micro_usd: 0, reserved_tokens: 2_000 });
    // A token-only budget needs no price.
    const ws2 = workspace();
    await create({ scope: { kind: 'workspace', id: ws2 }, period: 'day', cap_tokens: 10_000 });
    expect(await bus().call(budget.reserve, reserveArgs(ws2, { model: 'local-model' }))).toMatchObject({
      status: 'reserved',
    });
  });

  it('a redelivered reserve gets the same answer and holds nothing twice; another call may not reuse its id', async () => {
    const { ws, b } = await workspaceBudget();
    const args = reserveArgs(ws, { reservation_id: `turn-${ws}:step-1` });
    const first = await bus().call(budget.reserve, args);
    const again = await Promise.all([1, 2, 3].map(() => bus().call(budget.reserve, args)));
    for (const r of again) expect(r).toEqual(first);
    expect((await usageOf(b.budget_id)).reserved_micro_usd).toBe(W);
    await expect(bus().call(budget.reserve, { ...args, input_tokens: 5 })).rejects.toMatchObject({
      code: 'conflict',
      reason: 'reservation_id_reused',
    });
    await bus().call(budget.commit, { reservation_id: args.reservation_id!, usage: USAGE });
    await expect(bus().call(budget.reserve, args)).rejects.toMatchObject({
      code: 'conflict',
      reason: 'reservation_settled',
    });
  });

  it('runs without any budget: granted, priced, and commit reports the cost', async () => {
    const r = await bus().call(budget.reserve, reserveArgs(workspace()));
    expect(r).toMatchObject({ status: 'reserved', budgets: [], reserved_micro_usd: W });
    expect(await bus().call(budget.commit, { reservation_id: r.reservation_id, usage: USAGE })).toMatchObject({
      cost_micro_usd: 9_960,
    });
  });
});

describe('time', () => {
  it('a day budget rolls over at midnight in its time zone, across a DST change', async () => {
    const ws = workspace();
    // 2026-03-08 is the spring-forward day in New York (23 hours long).
    const { budget: b } = await create({
      scope: { kind: 'workspace', id: ws },
      period: 'day',
      time_zone: 'America/New_York',
      cap_micro_usd: W,
    });
    const midnight = Date.UTC(2026, 2, 9, 4, 0, 0); // 2026-03-09 00:00 EDT
    stack.clock.ms = midnight - 1;
    const r = await bus().call(budget.reserve, reserveArgs(ws));
    expect(r.status).toBe('reserved');
    expect(await bus().call(budget.reserve, reserveArgs(ws))).toMatchObject({ status: 'exceeded' });
    const before = await usageOf(b.budget_id);
    expect(before).toMatchObject({
      period_label: '2026-03-08',
      period_start: Date.UTC(2026, 2, 8, 5, 0, 0), // 00:00 EST
      period_end: midnight,
    });
    expect(before.period_end! - before.period_start).toBe(23 * 3_600_000);

    stack.clock.ms = midnight;
    const after = await usageOf(b.budget_id);
    expect(after).toMatchObject({ period_label: '2026-03-09', spent_micro_usd: 0, reserved_micro_usd: 0 });
    expect(await bus().call(budget.reserve, reserveArgs(ws))).toMatchObject({ status: 'reserved' });
    // The call reserved yesterday settles on yesterday's counter.
    await bus().call(budget.commit, { reservation_id: r.reservation_id, usage: USAGE });
    expect((await bus().call(budget.usage, { budget_id: b.budget_id, at: midnight - 1 })).usage[0]).toMatchObject({
      spent_micro_usd: 9_960,
      reserved_micro_usd: 0,
    });
    expect((await usageOf(b.budget_id)).spent_micro_usd).toBe(0);
    stack.clock.ms = Date.UTC(2026, 2, 10, 12);
  });

  it('reset starts from zero; forecast projects the period from the rate so far', async () => {
    const ws = workspace();
    stack.clock.ms = Date.UTC(2026, 2, 10, 6, 0, 0);
    const { budget: b } = await create({ scope: { kind: 'workspace', id: ws }, period: 'day', cap_micro_usd: 30_000 });
    stack.clock.ms = Date.UTC(2026, 2, 10, 12, 0, 0); // 6 hours after the budget began, 12 before the day ends
    const r = await bus().call(budget.reserve, reserveArgs(ws));
    await bus().call(budget.commit, { reservation_id: r.reservation_id, usage: USAGE });
    const f = await bus().call(budget.forecast, { budget_id: b.budget_id });
    expect(f).toMatchObject({
      spent_micro_usd: 9_960,
      rate_micro_usd_per_hour: 1_660,
      projected_micro_usd: 29_880,
      exhausts_at: null,
      on_track: true,
    });
    await bus().call(budget.update, { budget_id: b.budget_id, cap_micro_usd: 15_000 });
    const tight = await bus().call(budget.forecast, { budget_id: b.budget_id });
    expect(tight.on_track).toBe(false);
    expect(tight.exhausts_at).toBe(stack.clock.ms + Math.ceil(((15_000 - 9_960) * 6 * 3_600_000) / 9_960));

    const reset = await bus().call(budget.reset, { budget_id: b.budget_id });
    expect(reset.budget.epoch).toBe(1);
    expect(await usageOf(b.budget_id)).toMatchObject({ spent_micro_usd: 0, reserved_micro_usd: 0 });
  });

  it('a reservation whose holder never comes back is settled at its full amount when it expires', async () => {
    const { ws, b } = await workspaceBudget({ period: 'total' });
    const r = await bus().call(budget.reserve, reserveArgs(ws));
    await bus().call(budget.sweep, {});
    expect((await usageOf(b.budget_id)).reserved_micro_usd).toBe(W); // not expired yet
    stack.clock.advance(600_001);
    expect((await bus().call(budget.sweep, {})).expired).toBeGreaterThanOrEqual(1);
    expect(await usageOf(b.budget_id)).toMatchObject({ spent_micro_usd: W, reserved_micro_usd: 0 });
    // The holder's late commit changes nothing and learns what happened.
    expect(await bus().call(budget.commit, { reservation_id: r.reservation_id, usage: USAGE })).toMatchObject({
      status: 'expired',
      duplicate: true,
      cost_micro_usd: W,
    });
    expect((await usageOf(b.budget_id)).spent_micro_usd).toBe(W);
  });
});

describe('folding', () => {
  it('settled charges are folded into the totals after reserve_timeout_ms; usage does not move', async () => {
    const { ws, b } = await workspaceBudget({ period: 'total' });
    for (let i = 0; i < 3; i++) {
      const r = await bus().call(budget.reserve, reserveArgs(ws));
      await bus().call(budget.commit, { reservation_id: r.reservation_id, usage: USAGE });
    }
    const counterOf = async () =>
      Object.keys(
        ((await bus().call(contracts.engine.stateGet, { scope: 'budget_usage', key: `${b.budget_id}~0~total` })) ??
          {}) as object,
      );
    expect((await counterOf()).filter((k) => k.startsWith('c~'))).toHaveLength(3);
    await bus().call(budget.sweep, {});
    expect((await counterOf()).filter((k) => k.startsWith('c~'))).toHaveLength(3); // too fresh
    stack.clock.advance(30_001);
    expect((await bus().call(budget.sweep, {})).folded).toBeGreaterThanOrEqual(3);
    expect((await counterOf()).filter((k) => /^[cfh]~/.test(k))).toEqual([]);
    expect(await usageOf(b.budget_id)).toMatchObject({ spent_micro_usd: 3 * 9_960, spent_tokens: 4_500 });
    stack.clock.ms = Date.UTC(2026, 2, 10, 12);
  });
});

describe('alerts', () => {
  it('fire once per threshold per period, on budget::alerts', async () => {
    const ws = workspace();
    const alerts = collectStream<BudgetAlertEvent>(stack.client.client, BUDGET_ALERTS_STREAM, `workspace:${ws}`);
    stack.clock.ms = Date.UTC(2026, 2, 11, 1);
    // Commits of 9,960 µ$ against a cap of 99,600: 10 % each.
    const { budget: b } = await create({ scope: { kind: 'workspace', id: ws }, period: 'day', cap_micro_usd: 99_600 });
    const reserveSome = async (count: number, extra: Record<string, unknown> = { max_output_tokens: 500 }) => {
      const granted = await Promise.all(
        Array.from({ length: count }, () => bus().call(budget.reserve, reserveArgs(ws, extra))),
      );
      for (const r of granted) expect(r.status).toBe('reserved');
      return granted.map((r) => r.reservation_id);
    };
    const spend = async (count: number) => {
      for (let i = 0; i < count; i++)
        for (const reservation_id of await reserveSome(1))
          await bus().call(budget.commit, { reservation_id, usage: USAGE });
    };
    await spend(5); // 50 %
    await alerts.waitFor(1);
    await spend(2); // 70 %
    // Two commits racing across 80 %: both see it crossed, one raises it.
    const racing = await reserveSome(2);
    await Promise.all(racing.map((reservation_id) => bus().call(budget.commit, { reservation_id, usage: USAGE })));
    // The last 10 % exactly: two calls of 332 output tokens (4,980 µ$ each).
    const last = await reserveSome(2, { input_tokens: 0, max_output_tokens: 332, min_output_tokens: 332 });
    await Promise.all(
      last.map((reservation_id) =>
        bus().call(budget.commit, { reservation_id, usage: { input_tokens: 0, output_tokens: 332 } }),
      ),
    );
    expect(await usageOf(b.budget_id)).toMatchObject({ spent_micro_usd: 99_600, remaining_micro_usd: 0 });
    await eventually(() => expect(alerts.data().map((a) => a.threshold_pct)).toEqual([50, 80, 100]));
    expect(alerts.data()[0]).toMatchObject({ budget_id: b.budget_id, metric: 'usd', spent: 49_800, cap: 99_600 });
    const items = await bus().call(contracts.engine.streamList, {
      stream_name: BUDGET_ALERTS_STREAM,
      group_id: `workspace:${ws}`,
    });
    expect(items).toHaveLength(3);

    // The next day starts over.
    stack.clock.advance(24 * 3_600_000);
    await spend(5);
    await eventually(() => expect(alerts.data().map((a) => a.threshold_pct)).toEqual([50, 80, 100, 50]));
    expect(alerts.events.filter((e) => e.event.type !== 'create')).toEqual([]);
    alerts.stop();
    stack.clock.ms = Date.UTC(2026, 2, 10, 12);
  });
});
