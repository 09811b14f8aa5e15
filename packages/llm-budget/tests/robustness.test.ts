import { codeOf, stateSnapshot } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { reserveArgs, type Stack, startCatalog, startStack, W } from './stack.js';

const { budget, engine } = contracts;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const usageOf = async (budget_id: string) => (await stack.client.bus.call(budget.usage, { budget_id })).usage[0]!;

it('bad input gets a clear error and changes nothing', async () => {
  const { budget: b } = await stack.client.bus.call(budget.create, {
    scope: { kind: 'workspace', id: 'bad-input' },
    period: 'day',
    cap_micro_usd: 1_000_000,
  });
  const granted = await stack.client.bus.call(budget.reserve, reserveArgs('bad-input'));
  const before = await stateSnapshot(stack.client.bus);
  const scope = { kind: 'workspace', id: 'bad-input' };
  const cases: Array<[string, unknown, string, RegExp?]> = [
    ['budget::create', { scope, period: 'day', cap_micro_usd: -5 }, 'invalid_payload', /cap_micro_usd/],
    ['budget::create', { scope, period: 'day', cap_micro_usd: 1.5 }, 'invalid_payload', /cap_micro_usd/],
    ['budget::create', { scope, period: 'day', cap_tokens: 10.25 }, 'invalid_payload', /cap_tokens/],
    ['budget::create', { scope: { kind: 'team', id: 'x' }, period: 'day', cap_tokens: 1 }, 'invalid_payload', /kind/],
    ['budget::create', { scope, period: 'year', cap_tokens: 1 }, 'invalid_payload', /period/],
    ['budget::create', { scope, period: 'day', cap_tokens: 1, time_zone: 'Mars/Olympus' }, 'invalid_payload', /zone/],
    ['budget::create', { scope, period: 'day' }, 'invalid_payload', /needs cap_micro_usd, cap_tokens or both/],
    ['budget::create', { scope, period: 'day', cap_tokens: 1, owner: 'me' }, 'invalid_payload'],
    ['budget::update', { budget_id: b.budget_id, cap_micro_usd: 0.5 }, 'invalid_payload', /cap_micro_usd/],
    ['budget::update', { budget_id: b.budget_id, period: 'fortnight' }, 'invalid_payload', /period/],
    ['budget::update', { budget_id: 'nope', cap_tokens: 5 }, 'not_found', /budget nope does not exist/],
    ['budget::alert_set', { budget_id: b.budget_id, thresholds_pct: [0] }, 'invalid_payload'],
    ['budget::alert_set', { budget_id: b.budget_id, thresholds_pct: [50, 50] }, 'invalid_payload', /distinct/],
    ['budget::alert_set', { budget_id: b.budget_id, thresholds_pct: [120] }, 'invalid_payload'],
    ['budget::reset', { budget_id: 'nope' }, 'not_found'],
    ['budget::delete', { budget_id: 'nope' }, 'not_found'],
    ['budget::forecast', { budget_id: 'nope' }, 'not_found'],
    ['budget::usage', { budget_id: b.budget_id, scopes: { workspace_id: 'x' } }, 'invalid_payload', /exactly one/],
    ['budget::reserve', reserveArgs('bad-input', { input_tokens: -1 }), 'invalid_payload', /input_tokens/],
    ['budget::reserve', reserveArgs('bad-input', { max_output_tokens: 0 }), 'invalid_payload'],
    ['budget::reserve', reserveArgs('bad-input', { max_output_tokens: 10.5 }), 'invalid_payload'],
    ['budget::reserve', { ...reserveArgs('bad-input'), scopes: {} }, 'invalid_payload', /at least one/],
    ['budget::reserve', { ...reserveArgs('bad-input'), scopes: { team_id: 'x' } }, 'invalid_payload'],
    ['budget::reserve', reserveArgs('bad-input', { reservation_id: 'a~b' }), 'invalid_payload'],
    ['budget::commit', { reservation_id: 'never-made', usage: { input_tokens: 1, output_tokens: 1 } }, 'not_found'],
    ['budget::release', { reservation_id: 'never-made' }, 'not_found', /reservation never-made does not exist/],
    [
      'budget::commit',
      { reservation_id: granted.reservation_id, usage: { input_tokens: 1, output_tokens: 1.5 } },
      'invalid_payload',
      /output_tokens/,
    ],
    [
      'budget::commit',
      { reservation_id: granted.reservation_id, usage: { input_tokens: 1, output_tokens: 1, cost_usd: 0.01 } },
      'invalid_payload',
      /cost_usd/,
    ],
    [
      'budget::commit',
      { reservation_id: granted.reservation_id, usage: { input_tokens: -3, output_tokens: 1 } },
      'invalid_payload',
    ],
  ];
  for (const [id, payload, code, message] of cases) {
    const error = await stack.invoke(id, payload).then(
      () => ({ code: 'resolved', message: '' }),
      (e: { code: string; message: string }) => e,
    );
    expect({ id, payload, code: error.code }).toEqual({ id, payload, code });
    if (message) expect(error.message).toMatch(message);
  }
  expect(await stateSnapshot(stack.client.bus)).toEqual(before);
});

/**
 * A budget of 3 W in workspace `ws`, and what an owner of `rid` leaves when it dies right after
 * its first hold there: a claim, its open entry, one hold of W.
 */
async function crashedOwner(ws: string, rid: string) {
  const { budget: b } = await stack.client.bus.call(budget.create, {
    scope: { kind: 'workspace', id: ws },
    period: 'day',
    cap_micro_usd: 3 * W,
  });
  const at = stack.clock.ms;
  const counter = `${b.budget_id}~0~day:2026-03-10`;
  const request = reserveArgs(ws, { min_output_tokens: 1_000 });
  await stack.client.bus.call(engine.stateUpdate, {
    scope: 'budget_reservations',
    key: rid,
    ops: [{ type: 'append', path: 'log', value: { type: 'claim', at, request } }],
  });
  await stack.client.bus.call(engine.stateSet, {
    scope: 'budget_open',
    key: `${rid}~1`,
    value: { rid, gen: 1, at, counters: [counter] },
  });
  await stack.client.bus.call(engine.stateUpdate, {
    scope: 'budget_usage',
    key: counter,
    ops: [{ type: 'set', path: `h~${rid}~1~0`, value: { u: W, t: 2_000, at } }],
  });
  return b;
}

it('a reserve whose owner crashed is taken over by a retry after reserve_timeout_ms; the sweeper gives the old holds back', async () => {
  const rid = 'turn-1:step-3';
  const b = await crashedOwner('takeover', rid);

  stack.clock.advance(1_000);
  await expect(
    stack.client.bus.call(budget.reserve, reserveArgs('takeover', { reservation_id: rid })),
  ).rejects.toMatchObject({ code: 'conflict', reason: 'reservation_in_progress', retryable: true });
  await stack.client.bus.call(budget.sweep, {});
  expect((await usageOf(b.budget_id)).reserved_micro_usd).toBe(W); // still presumed alive

  stack.clock.advance(30_000);
  const taken = await stack.client.bus.call(budget.reserve, reserveArgs('takeover', { reservation_id: rid }));
  expect(taken).toMatchObject({ status: 'reserved', reserved_micro_usd: W });
  expect((await usageOf(b.budget_id)).reserved_micro_usd).toBe(2 * W);
  expect(await stack.client.bus.call(budget.sweep, {})).toMatchObject({ released: 1 });
  expect((await usageOf(b.budget_id)).reserved_micro_usd).toBe(W);
  await stack.client.bus.call(budget.commit, {
    reservation_id: rid,
    usage: { input_tokens: 1_000, output_tokens: 1_000 },
  });
  expect(await usageOf(b.budget_id)).toMatchObject({ reserved_micro_usd: 0, spent_micro_usd: 18_000 });
});

it('the sweeper abandons an owner stuck past reserve_timeout_ms: its late grant is void, a retry starts afresh', async () => {
  const rid = 'stuck-1';
  const b = await crashedOwner('stuck', rid);
  stack.clock.advance(30_001);
  expect(await stack.client.bus.call(budget.sweep, {})).toMatchObject({ released: 1 });
  expect((await usageOf(b.budget_id)).reserved_micro_usd).toBe(0);
  // The stuck owner wakes up and records its grant: the log no longer accepts it.
  const lateGrant = {
    ns: `${rid}~1~0`,
    max_output_tokens: 1_000,
    requested_max_output_tokens: 1_000,
    shrunk: false,
    reserved_micro_usd: W,
    reserved_tokens: 2_000,
    prices: null,
    expires_at: stack.clock.ms + 600_000,
    entries: [],
  };
  const { new_value } = await stack.client.bus.call(engine.stateUpdate, {
    scope: 'budget_reservations',
    key: rid,
    ops: [{ type: 'append', path: 'log', value: { type: 'grant', at: stack.clock.ms, gen: 1, grant: lateGrant } }],
  });
  expect((new_value as { log: Array<{ type: string }> }).log.map((e) => e.type)).toEqual(['claim', 'abandon', 'grant']);
  await expect(codeOf(stack.client.bus.call(budget.commit, { reservation_id: rid }))).resolves.toBe('conflict');
  const fresh = await stack.client.bus.call(budget.reserve, reserveArgs('stuck', { reservation_id: rid }));
  expect(fresh.status).toBe('reserved');
  expect((await usageOf(b.budget_id)).reserved_micro_usd).toBe(W);
});

it('fails closed when the catalog cannot price a call under a USD cap; a retry succeeds once it is back', async () => {
  const { budget: b } = await stack.client.bus.call(budget.create, {
    scope: { kind: 'workspace', id: 'no-catalog' },
    period: 'day',
    cap_micro_usd: 1_000_000,
  });
  await stack.catalog.stop();
  const args = reserveArgs('no-catalog', { reservation_id: 'needs-a-price' });
  await expect(stack.client.bus.call(budget.reserve, args)).rejects.toMatchObject({
    code: 'unavailable',
    retryable: true,
  });
  expect((await usageOf(b.budget_id)).reserved_micro_usd).toBe(0);
  stack.catalog = await startCatalog(stack.engine, stack.client);
  expect(await stack.client.bus.call(budget.reserve, args)).toMatchObject({ status: 'reserved', priced: true });
});
