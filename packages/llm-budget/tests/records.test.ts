import { contracts } from '@iii-harness/types';
import { reserveArgs, type Stack, startStack } from './stack.js';

/**
 * Stored records are versioned: records written before they carried `v` (version 1, today's shape)
 * are read through the worker as they are and written back stamped; a record of a newer version
 * is refused with a clear error and left as it was.
 */
const { budget } = contracts;
const HOUR = 3_600_000;
const MINUTE = 60_000;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const bus = () => stack.client.bus;
const put = (scope: string, key: string, value: unknown) =>
  bus().call(contracts.engine.stateSet, { scope, key, value });
const stored = (scope: string, key: string) => bus().call(contracts.engine.stateGet, { scope, key });

/** A budget as llm-budget stored it before records carried a version, with its scope index entry. */
async function writeUnversionedBudget(budgetId: string, workspace: string) {
  const record = {
    budget_id: budgetId,
    name: 'from before versions',
    scope: { kind: 'workspace', id: workspace },
    period: 'day',
    time_zone: 'UTC',
    cap_micro_usd: 1_000_000,
    allow_unpriced: false,
    alert_thresholds_pct: [80],
    epoch: 0,
    epoch_started_at: 1000,
    created_at: 1000,
    updated_at: 1000,
  };
  await put('budget_scopes', `workspace:${workspace}`, { [`b~${budgetId}`]: true });
  await put('budget_budgets', budgetId, record);
  return record;
}

describe('stored records are versioned', () => {
  it('reads a budget written before versions, and stamps it when it writes it', async () => {
    const record = await writeUnversionedBudget('old-budget', 'ws-old');
    expect((await bus().call(budget.get, { budget_id: 'old-budget' })).budget).toEqual(record);
    const { budgets } = await bus().call(budget.list, { scope: { kind: 'workspace', id: 'ws-old' } });
    expect(budgets).toEqual([record]);
    // It still counts: a reservation in its workspace takes a hold on it.
    const reserved = await bus().call(budget.reserve, reserveArgs('ws-old'));
    expect(reserved).toMatchObject({ status: 'reserved' });
    const { usage } = await bus().call(budget.usage, { budget_id: 'old-budget' });
    expect(usage[0]!.reserved_micro_usd).toBeGreaterThan(0);
    // A write keeps the fields and stamps the version (update ops leave it; create stamps it).
    await bus().call(budget.alertSet, { budget_id: 'old-budget', thresholds_pct: [50, 90] });
    expect(await stored('budget_budgets', 'old-budget')).toMatchObject({ budget_id: 'old-budget', epoch: 0 });
    const { budget: created } = await bus().call(budget.create, {
      scope: { kind: 'workspace', id: 'ws-new' },
      period: 'day',
      cap_tokens: 10,
    });
    expect(await stored('budget_budgets', created.budget_id)).toMatchObject({ v: 1, budget_id: created.budget_id });
  });

  it('reads a reservation log, an open owner and the collector records written before versions', async () => {
    await writeUnversionedBudget('old-budget-2', 'ws-old-2');
    const reserved = await bus().call(budget.reserve, reserveArgs('ws-old-2'));
    const rid = reserved.reservation_id;
    // What reserve wrote, as it was before versions: the log never carried one; the rest lose theirs.
    const log = (await stored('budget_reservations', rid)) as Record<string, unknown>;
    expect(log).not.toHaveProperty('v');
    const openKeys = (await bus().call(contracts.engine.stateList, { scope: 'budget_open' })) as Array<
      Record<string, unknown>
    >;
    const open = openKeys.find((entry) => entry.rid === rid)!;
    expect(open).toMatchObject({ v: 1 });
    const { v: _v, ...unversionedOpen } = open;
    await put('budget_open', `${rid}~${open.gen}`, unversionedOpen);

    // The collector: a cursor and a creation marker of a minute older than the retention.
    const minute = Math.floor((stack.clock.ms - 24 * HOUR) / MINUTE) * MINUTE - 2 * MINUTE;
    await put('budget_gc', 'cursor', { minute });
    await put(`budget_gc:${minute}`, 'gone-rid', { rid: 'gone-rid' });
    await put('budget_reservations', 'gone-rid', { log: [] });

    // Commit reads the unversioned log; the sweep reads the unversioned open owner and collector records.
    expect(
      await bus().call(budget.commit, { reservation_id: rid, usage: { input_tokens: 1, output_tokens: 1 } }),
    ).toMatchObject({ reservation_id: rid, status: 'committed', duplicate: false });
    const counts = await bus().call(budget.sweep, {});
    expect(counts.collected).toBeGreaterThanOrEqual(1);
    expect(await stored('budget_reservations', 'gone-rid')).toBeUndefined();
    expect(await stored('budget_gc', 'cursor')).toEqual({ v: 1, minute: expect.any(Number) });
  });

  it('refuses a budget or reservation of a newer version with a clear error, and leaves it as it was', async () => {
    const future = { v: 99, budget_id: 'future-budget', shape: 'from the future' };
    await put('budget_budgets', 'future-budget', future);
    const refused = (what: string, where: string) => ({
      code: 'unavailable',
      reason: 'unsupported_record_version',
      message: `${what} at ${where} has version 99; this worker reads versions up to 1 (upgrade the worker)`,
    });
    await expect(bus().call(budget.get, { budget_id: 'future-budget' })).rejects.toMatchObject(
      refused('budget', 'budget_budgets/future-budget'),
    );
    await expect(
      bus().call(budget.alertSet, { budget_id: 'future-budget', thresholds_pct: [1] }),
    ).rejects.toMatchObject(refused('budget', 'budget_budgets/future-budget'));
    expect(await stored('budget_budgets', 'future-budget')).toEqual(future);
    await bus().call(contracts.engine.stateDelete, { scope: 'budget_budgets', key: 'future-budget' });

    const futureLog = { v: 99, log: [{ type: 'from the future' }] };
    await put('budget_reservations', 'future-rid', futureLog);
    await expect(
      bus().call(budget.commit, { reservation_id: 'future-rid', usage: { input_tokens: 1, output_tokens: 1 } }),
    ).rejects.toMatchObject(refused('budget reservation', 'budget_reservations/future-rid'));
    expect(await stored('budget_reservations', 'future-rid')).toEqual(futureLog);

    // The sweeper leaves a newer worker's open owner to it, and goes on with the rest.
    const futureOpen = { v: 99, rid: 'future-rid', shape: 'from the future' };
    await put('budget_open', 'future-rid~1', futureOpen);
    await bus().call(budget.sweep, {});
    expect(await stored('budget_open', 'future-rid~1')).toEqual(futureOpen);
  });
});
