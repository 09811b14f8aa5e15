import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type HarnessError, isHarnessError } from '@iii-harness/runtime';
import { type ChildProc, eventually } from '@iii-harness/testing';
import { type CallUsage, contracts } from '@iii-harness/types';
import { spawnBudgetWorker } from './processes.js';
import { reserveArgs, type Stack, startStack, W } from './stack.js';

/**
 * The budget worker runs as its own process (its real bin) and is SIGKILLed 50 times at random
 * moments while 8 sessions reserve and commit through it, retrying what failed with the same
 * reservation id, as the orchestrator would on a redelivered step. One call in 20 is abandoned by
 * its holder after the grant (the holder "died"): it must be charged in full when it expires.
 * Afterwards: nothing is held anywhere, spend is exactly what the calls cost, and the cap held.
 */

const { budget } = contracts;
const KILLS = 50;
const USAGE: CallUsage = { input_tokens: 1_000, output_tokens: 500, cache_read_tokens: 0, cache_write_tokens: 0 };
const A = 3_000 + 7_500;
const CAP = 40 * W;
const TTL = 4_000;

let stack: Stack;
let worker: ChildProc | undefined;
const configFile = join(mkdtempSync(join(tmpdir(), 'llm-budget-crash-')), 'config.yaml');
writeFileSync(
  configFile,
  `llm-budget:\n  reservation_ttl_ms: ${TTL}\n  reserve_timeout_ms: 1000\n  sweep_interval_ms: 200\n`,
);

beforeAll(async () => {
  stack = await startStack({ budget: false });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await stack?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startWorker(): Promise<void> {
  worker = spawnBudgetWorker(stack.engine.url, configFile);
  await eventually(
    async () => {
      if (!worker!.alive) throw new Error(`llm-budget exited:\n${worker!.tail()}`);
      await stack.client.bus.call(contracts.engine.functionsInfo, { function_id: 'budget::sweep' });
    },
    { timeoutMs: 30_000, intervalMs: 25 },
  );
}

/** What the orchestrator would retry: the worker is gone, restarting, or another attempt is in progress. */
const retryable = (error: unknown): error is HarnessError =>
  isHarnessError(error) && (error.retryable || error.reason === 'function_not_found');

let failedMidCall = 0;
async function withRetry<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await run();
    } catch (error) {
      if (!retryable(error) || Date.now() > deadline) throw error;
      if (error.code === 'unavailable' || error.code === 'timeout') failedMidCall++;
      await sleep(20);
    }
  }
}

interface Ledger {
  committed: Map<string, { cost: number; tokens: number; status: string; small: boolean }>;
  dropped: Array<{ reservation_id: string; small: boolean }>;
  refused: number;
}

/** Sessions 0-3 share a small cap (reached early: refusals across kills); 4-7 a cap never reached. */
async function session(k: number, ledger: Ledger, stop: () => boolean): Promise<void> {
  const scopes = { workspace_id: k < 4 ? 'crash-small' : 'crash-large', agent_id: 'agent-crash', session_id: `s${k}` };
  for (let n = 0; !stop(); n++) {
    const reservation_id = `s${k}-c${n}`;
    const reply = await withRetry(() =>
      stack.client.bus.call(
        budget.reserve,
        reserveArgs(scopes.workspace_id, { scopes, min_output_tokens: 1_000, reservation_id }),
      ),
    ).catch((error: HarnessError) => {
      // Granted, but the answer was lost and the retries outlived the TTL: it expired, charged in
      // full. The call was never made; the next one needs a new id.
      if (error.reason !== 'reservation_settled') throw error;
      ledger.dropped.push({ reservation_id, small: k < 4 });
      return undefined;
    });
    if (!reply) continue;
    if (reply.status === 'exceeded') {
      ledger.refused++;
      await sleep(50);
      continue;
    }
    if (Math.random() < 0.05) {
      ledger.dropped.push({ reservation_id, small: k < 4 }); // the holder dies holding it
      continue;
    }
    await sleep(Math.random() * 5); // the provider call
    const settled = await withRetry(() => stack.client.bus.call(budget.commit, { reservation_id, usage: USAGE }));
    ledger.committed.set(reservation_id, {
      cost: settled.cost_micro_usd,
      tokens: settled.tokens,
      status: settled.status,
      small: k < 4,
    });
  }
}

it(`kills the budget worker ${KILLS} times mid-traffic: nothing leaks, no spend is lost, the cap holds`, async () => {
  await startWorker();
  const create = async (kind: 'workspace' | 'agent', id: string, caps: object, period: 'day' | 'total') =>
    (await stack.client.bus.call(budget.create, { scope: { kind, id }, period, ...caps })).budget;
  const small = await create('workspace', 'crash-small', { cap_micro_usd: CAP }, 'day');
  const large = await create('workspace', 'crash-large', { cap_micro_usd: 1_000 * 1_000_000 }, 'day');
  const agent = await create('agent', 'agent-crash', { cap_tokens: 1_000_000_000 }, 'total');
  const ledger: Ledger = { committed: new Map(), dropped: [], refused: 0 };
  let stopping = false;
  const sessions = Array.from({ length: 8 }, (_, k) => session(k, ledger, () => stopping));

  for (let kill = 0; kill < KILLS; kill++) {
    await sleep(10 + Math.random() * 300);
    await worker!.kill9();
    await startWorker();
  }
  stopping = true;
  await Promise.all(sessions);

  // Dropped reservations expire after the TTL; the sweeper settles them and anything interrupted.
  const open = async () => (await stack.client.bus.call(contracts.engine.stateList, { scope: 'budget_open' })) ?? [];
  await eventually(
    async () => {
      await stack.client.bus.call(budget.sweep, {});
      expect(await open()).toEqual([]);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const usage = async (b: { budget_id: string }) =>
    (await stack.client.bus.call(budget.usage, { budget_id: b.budget_id })).usage[0]!;
  const [smallUsage, largeUsage, agentUsage] = await Promise.all([small, large, agent].map(usage));
  const counters = ((await stack.client.bus.call(contracts.engine.stateList, { scope: 'budget_usage' })) ??
    []) as Array<Record<string, unknown>>;
  expect(counters.flatMap((c) => Object.keys(c).filter((k) => k.startsWith('h~')))).toEqual([]); // no hold left

  const settled = [...ledger.committed.values()];
  const expected = (filter: (small: boolean) => boolean) => ({
    usd:
      settled.filter((c) => filter(c.small)).reduce((sum, c) => sum + c.cost, 0) +
      ledger.dropped.filter((d) => filter(d.small)).length * W,
    tokens:
      settled.filter((c) => filter(c.small)).reduce((sum, c) => sum + c.tokens, 0) +
      ledger.dropped.filter((d) => filter(d.small)).length * 2_000,
  });
  process.stdout.write(
    `${KILLS} kills: ${settled.length} calls committed (${settled.filter((c) => c.status === 'expired').length} expired first), ` +
      `${ledger.dropped.length} abandoned by their holder, ${ledger.refused} refusals, ${failedMidCall} calls cut off mid-flight; ` +
      `small cap: spent ${smallUsage.spent_micro_usd} of ${CAP}; large: ${largeUsage.spent_micro_usd}\n`,
  );
  for (const u of [smallUsage, largeUsage, agentUsage])
    expect(u).toMatchObject({ reserved_micro_usd: 0, reserved_tokens: 0 });
  // Nothing lost, nothing counted twice.
  expect(smallUsage.spent_micro_usd).toBe(expected((s) => s).usd);
  expect(largeUsage.spent_micro_usd).toBe(expected((s) => !s).usd);
  expect(agentUsage.spent_tokens).toBe(expected(() => true).tokens);
  expect(smallUsage.spent_micro_usd).toBeLessThanOrEqual(CAP);
  expect(ledger.refused).toBeGreaterThan(0); // the small cap was reached, and held
  expect(failedMidCall).toBeGreaterThan(0); // kills did land inside calls
  expect(settled.every((c) => c.cost === A || (c.status === 'expired' && c.cost === W))).toBe(true);
}, 600_000);
