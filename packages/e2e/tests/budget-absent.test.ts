import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelsCatalogWorker } from '@iii-harness/models-catalog';
import { eventually } from '@iii-harness/testing';
import { contracts, type TurnView } from '@iii-harness/types';
import { costOf, eventsOf, PRICED, reportedUsage, reservationsOf, startTurn, waitTurn } from './helpers/budget.js';
import { ChaosModel, catalogModels } from './helpers/model.js';
import { mainOf, type Proc, spawnNode } from './helpers/processes.js';
import { type Stack, startStack } from './helpers/stack.js';

/**
 * The budget worker is optional, but not skippable: a turn provisioned while llm-budget ran never
 * makes a model call without a reservation — when the worker goes away it waits for it (and says
 * so, `turn_waiting`), goes on if it comes back, and fails rather than spend unchecked if it does
 * not. A turn in a stack that never had llm-budget runs as it always did.
 */
jest.setTimeout(600_000);

const WAIT_MS = 10_000;
let stack: Stack;
let model: ChaosModel;
let budget: Proc | undefined;
const configFile = join(mkdtempSync(join(tmpdir(), 'iih-budget-absent-')), 'config.yaml');
writeFileSync(configFile, 'llm-budget:\n  sweep_interval_ms: 250\n');

beforeAll(async () => {
  stack = await startStack({
    // The orchestrator notices a budget worker started meanwhile within 200 ms; a missing one is waited for WAIT_MS.
    orchestrator: { functions_ttl_ms: 200, unavailable_wait_ms: WAIT_MS },
    extra: { catalog: { spec: modelsCatalogWorker } },
  });
  model = new ChaosModel(stack.engine.url, { CHAOS_OUTPUT_TOKENS: 'max' });
  await model.start(stack.client);
  await catalogModels(stack.client, [PRICED]);
}, 300_000);

afterAll(async () => {
  await budget?.kill9();
  await model?.stop();
  await stack?.close();
});

/** llm-budget, its real bin, as its own process; resolves once it is registered. */
async function startBudget(): Promise<void> {
  budget = spawnNode('llm-budget', mainOf('llm-budget'), ['--url', stack.engine.url, '--config', configFile]);
  await eventually(
    async () => {
      await stack.client.bus.call(contracts.engine.functionsInfo, { function_id: contracts.budget.reserve.id });
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  ).catch((error: Error) => {
    throw new Error(`llm-budget did not register: ${error.message}\n${budget?.tail()}`);
  });
  await new Promise((resolve) => setTimeout(resolve, 500)); // the orchestrator's functions_ttl_ms, and some
}

/** Until the turn holds its function call for a person; returns the held call's id. */
async function heldCall(session_id: string): Promise<string> {
  return eventually(
    async () => {
      const view: TurnView = await stack.client.bus.call(contracts.turn.getState, { session_id });
      const held = view.pending_approvals[0];
      if (!held) throw new Error(`turn ${view.state}, nothing held yet`);
      return held.function_call_id;
    },
    { timeoutMs: 120_000, intervalMs: 100 },
  );
}

const requestsOf = (turn_id: string) => model.requests().filter((r) => r.request_id.startsWith(`${turn_id}:`));

async function spentOf(budget_id: string): Promise<number> {
  return (await stack.client.bus.call(contracts.budget.usage, { budget_id })).usage[0]!.spent_micro_usd;
}

it('a turn in a stack that never had llm-budget runs as it always did', async () => {
  const session_id = `never-${Date.now()}`;
  const turn_id = await startTurn(stack.client, {
    session_id,
    workspace_id: 'ws-never',
    model: PRICED.id,
    text: `chaos ${session_id} turn 1: calls=1`,
  });
  const view = await waitTurn(stack.client, session_id, turn_id);
  expect(view).toMatchObject({ state: 'stopped', outcome: 'stopped', generations: 2 });
  expect(view.error).toBeUndefined();
  const events = await eventsOf(stack.client, session_id);
  expect(events.filter((e) => e.type === 'turn_waiting' || e.type === 'budget_exceeded')).toEqual([]);
  const completed = events.find((e) => e.type === 'turn_completed');
  // Priced from the catalog as before, and nothing was reserved.
  expect(completed).toMatchObject({ status: 'stopped' });
  expect(completed?.type === 'turn_completed' && completed.cost_micro_usd).toBeUndefined();
  expect(completed?.type === 'turn_completed' && completed.cost_usd).toBeGreaterThan(0);
  expect(requestsOf(turn_id)).toHaveLength(2);
  expect((await stack.client.bus.call(contracts.engine.stateList, { scope: 'budget_reservations' })) ?? []).toEqual([]);
});

describe('a turn provisioned under a budget', () => {
  let budget_id: string;
  const workspace_id = 'ws-absent';

  beforeAll(async () => {
    await startBudget();
    ({
      budget: { budget_id },
    } = await stack.client.bus.call(contracts.budget.create, {
      scope: { kind: 'workspace', id: workspace_id },
      period: 'total',
      cap_micro_usd: 100_000_000,
    }));
  });

  /** A turn whose first model call is made and committed, then held for a person; the budget worker is killed meanwhile. */
  async function heldWithoutBudgetWorker(name: string) {
    const session_id = `${name}-${Date.now()}`;
    const turn_id = await startTurn(stack.client, {
      session_id,
      workspace_id,
      model: PRICED.id,
      text: `chaos ${session_id} turn 1: calls=1 held=1`,
    });
    const function_call_id = await heldCall(session_id);
    const [first] = requestsOf(turn_id);
    expect(first).toBeDefined();
    const before = await spentOf(budget_id);
    await budget!.kill9();
    await stack.client.bus.call(contracts.approval.resolve, { session_id, function_call_id, decision: 'allow' });
    return { session_id, turn_id, firstCost: costOf(reportedUsage(first!, true), PRICED.pricing!), before };
  }

  it('waits for a budget worker that went away, then fails rather than call the model unchecked', async () => {
    const { session_id, turn_id, firstCost, before } = await heldWithoutBudgetWorker('gone');
    const view = await waitTurn(stack.client, session_id, turn_id);
    expect(view).toMatchObject({
      state: 'failed',
      error: { code: 'unavailable', reason: 'waited_out', retryable: false },
    });
    expect(view.error?.message).toContain(contracts.budget.reserve.id);
    // The user saw the turn wait for the budget worker, then end failed saying why.
    const events = await eventsOf(stack.client, session_id);
    const waiting = events.findIndex((e) => e.type === 'turn_waiting');
    const completed = events.findIndex((e) => e.type === 'turn_completed');
    expect(events[waiting]).toMatchObject({ function_id: contracts.budget.reserve.id });
    expect(events[completed]).toMatchObject({ status: 'failed', error: { code: 'unavailable', reason: 'waited_out' } });
    expect(waiting).toBeLessThan(completed);
    // The second model call was never made; the first was paid for exactly.
    expect(requestsOf(turn_id)).toHaveLength(1);
    await startBudget();
    expect(before).toBe(firstCost);
    expect(await spentOf(budget_id)).toBe(firstCost);
  });

  it('goes on when the budget worker comes back within the wait, every call reserved and committed', async () => {
    const { session_id, turn_id, before } = await heldWithoutBudgetWorker('back');
    await eventually(
      async () => {
        const waiting = (await eventsOf(stack.client, session_id)).find((e) => e.type === 'turn_waiting');
        expect(waiting).toMatchObject({ function_id: contracts.budget.reserve.id });
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    await startBudget();
    const view = await waitTurn(stack.client, session_id, turn_id);
    expect(view).toMatchObject({ state: 'stopped', outcome: 'stopped', generations: 2 });
    const requests = requestsOf(turn_id);
    expect(requests).toHaveLength(2);
    const costs = requests.map((r) => costOf(reportedUsage(r, true), PRICED.pricing!));
    expect(await spentOf(budget_id)).toBe(before + costs[1]!);
    const mine = (await reservationsOf(stack.client, [workspace_id])).filter((r) => r.id?.startsWith(`${turn_id}:`));
    expect(mine.map((r) => r.view.settlement?.kind)).toEqual(['commit', 'commit']);
    const completed = (await eventsOf(stack.client, session_id)).find((e) => e.type === 'turn_completed');
    expect(completed).toMatchObject({ status: 'stopped', cost_micro_usd: costs[0]! + costs[1]! });
  });
});
