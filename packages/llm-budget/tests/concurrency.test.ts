import { contracts } from '@iii-harness/types';
import { type Child, forkBudgetProcess } from './processes.js';
import { reserveArgs, type Stack, startStack, W } from './stack.js';

/**
 * Two llm-budget processes, 25 reservers each, share one workspace cap that allows 20 worst-case
 * calls. The engine routes a function to one registration at a time (last writer wins), so each
 * process drives its reservers through its own reserve/commit code: two processes really race
 * on the same engine state, as replicas (or an old and a new process during a restart) do.
 * Both processes also run their sweepers every 100 ms throughout.
 */

const CAP = 20 * W;
const RUNS = 20;
// No smaller offers: every grant is one worst case W.
const args = (workspace_id: string) => reserveArgs(workspace_id, { min_output_tokens: 1_000 });

interface Call {
  reservation_id: string;
  start: number;
  end: number;
  granted: boolean;
  cost?: number;
  message?: string;
}

let stack: Stack;
let processes: Child[] = [];

beforeAll(async () => {
  stack = await startStack({ budget: false });
  processes = [1, 2].map(() => forkBudgetProcess(stack.engine.url, { sweep_interval_ms: 100 }));
  await Promise.all(processes.map((p) => p.next('ready')));
}, 180_000);

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await stack?.close();
});

async function race(workspace: string, usage: object, loop: boolean): Promise<Call[]> {
  const done = processes.map((p) => p.next<{ calls: Call[] }>('done'));
  for (const [i, p] of processes.entries())
    p.child.send({ type: 'run', prefix: `${workspace}-p${i}`, reservers: 25, args: args(workspace), usage, loop });
  return (await Promise.all(done)).flatMap((d) => d.calls);
}

async function budgetFor(workspace: string) {
  const { budget } = await stack.client.bus.call(contracts.budget.create, {
    scope: { kind: 'workspace', id: workspace },
    period: 'day',
    cap_micro_usd: CAP,
  });
  return budget.budget_id;
}

const usageOf = async (budget_id: string) =>
  (await stack.client.bus.call(contracts.budget.usage, { budget_id })).usage[0]!;

it.each(Array.from({ length: RUNS }, (_, i) => i + 1))(
  'run %i: 50 reservers, each call costing its worst case: exactly 20 granted, spend = cap',
  async (run) => {
    const workspace = `exact-${run}`;
    const budget_id = await budgetFor(workspace);
    // cache writes are the dearest input: the actual cost is exactly the reserved worst case
    const calls = await race(workspace, { input_tokens: 0, cache_write_tokens: 1_000, output_tokens: 1_000 }, false);
    expect(calls).toHaveLength(50);
    const granted = calls.filter((c) => c.granted);
    const usage = await usageOf(budget_id);
    expect(usage.spent_micro_usd).toBeLessThanOrEqual(CAP);
    expect(granted).toHaveLength(20); // never more (the cap), never fewer (no over-refusal)
    expect(usage).toMatchObject({ spent_micro_usd: CAP, reserved_micro_usd: 0, remaining_micro_usd: 0 });
    expect(granted.reduce((sum, c) => sum + c.cost!, 0)).toBe(usage.spent_micro_usd);
  },
  60_000,
);

it.each(Array.from({ length: RUNS }, (_, i) => i + 1))(
  'run %i: 50 reservers calling until refused, each call cheaper than reserved: spend <= cap, refusals only for want of room',
  async (run) => {
    const workspace = `loop-${run}`;
    const budget_id = await budgetFor(workspace);
    const A = 3_000 + 7_500; // 1,000 plain prompt tokens, 500 output tokens
    const calls = await race(workspace, { input_tokens: 1_000, output_tokens: 500 }, true);
    const granted = calls.filter((c) => c.granted);
    const usage = await usageOf(budget_id);
    expect(usage.spent_micro_usd).toBeLessThanOrEqual(CAP);
    expect(usage.reserved_micro_usd).toBe(0);
    expect(granted.reduce((sum, c) => sum + c.cost!, 0)).toBe(usage.spent_micro_usd);
    expect(usage.spent_micro_usd).toBe(granted.length * A);
    // A refusal at time t means spent(t) + the holds in flight at t + W > cap. Spend only grows,
    // and every hold in flight at t belongs to a call whose [start, end] overlaps the refusal's,
    // each holding at most W: so what is left at the end is less than W × (1 + overlapping calls).
    const refusals = calls.filter((c) => !c.granted);
    expect(refusals).toHaveLength(50);
    for (const refusal of refusals) {
      const overlapping = calls.filter((c) => c !== refusal && c.start <= refusal.end && c.end >= refusal.start).length;
      expect(CAP - usage.spent_micro_usd).toBeLessThan(W * (1 + overlapping));
    }
    const loneliest = Math.min(
      ...refusals.map((r) => calls.filter((c) => c !== r && c.start <= r.end && c.end >= r.start).length),
    );
    process.stdout.write(
      `run ${run}: ${granted.length} calls, ${CAP - usage.spent_micro_usd} µ$ left, least-overlapped refusal overlaps ${loneliest}\n`,
    );
  },
  60_000,
);
