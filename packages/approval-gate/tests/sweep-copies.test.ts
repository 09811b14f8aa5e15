import { AgentEvents, type WorkerSpec } from '@iii-harness/runtime';
import {
  collectStream,
  connectClient,
  type DevEngine,
  eventually,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { AGENT_EVENTS_STREAM, contract, contracts } from '@iii-harness/types';
import { type Config, configSchema } from '../src/index.js';
import { sweep } from '../src/resolve.js';
import { ApprovalStore } from '../src/store.js';

/**
 * Every copy of approval-gate (one per engine) registers the sweep cron. Two copies on one engine
 * stand in for them: the same sweep handler under two function ids, each with its own cron
 * trigger firing every second. Each scheduled run is swept by one copy, and a timed-out hold is
 * denied once.
 */
const { approval } = contracts;
const config = configSchema.parse({ pending_timeout_ms: 200, sweep_cron: '* * * * * *' });

type Run = { copy: string; scheduled: string; expired: number; skipped: boolean };
const runs: Run[] = [];

function copyOf(copy: string): WorkerSpec<Config> {
  const id = `${copy}::sweep`;
  return {
    name: copy,
    description: `approval-gate copy ${copy}`,
    config: configSchema,
    register(worker) {
      const handler = sweep(
        { store: new ApprovalStore(worker.bus, worker.config), events: new AgentEvents(worker.bus) },
        worker.config,
      );
      worker.function(contract({ ...approval.sweep, id }), async (input, ctx) => {
        const result = await handler(input, ctx);
        const scheduled = String((input as { scheduled_time?: unknown }).scheduled_time);
        runs.push({ copy, scheduled, expired: result.expired, skipped: result.skipped === true });
        return result;
      });
      worker.trigger({ type: 'cron', function_id: id, config: { expression: worker.config.sweep_cron } });
    },
  };
}

let engine: DevEngine;
let copies: TestWorker<Config>[];
let client: TestClient;

beforeAll(async () => {
  engine = await startDevEngine();
  client = await connectClient(engine.url);
  client.client.registerFunction('turn::function_awaiting_approval', async () => undefined);
  copies = [
    await startTestWorker(copyOf('copy_a'), { url: engine.url, config }),
    await startTestWorker(copyOf('copy_b'), { url: engine.url, config }),
  ];
}, 60_000);

afterAll(async () => {
  await Promise.all((copies ?? []).map((c) => c.shutdown()));
  await client?.close();
  await engine?.close();
});

it('runs each scheduled sweep on one copy, and denies a timed-out hold once', async () => {
  const events = collectStream<{ type: string; decision?: string }>(client.client, AGENT_EVENTS_STREAM, 'sw');
  // The hold is written straight into the gate's state (no approval::hold function runs here).
  const store = new ApprovalStore(client.bus, config);
  await store.putHold({
    session_id: 'sw',
    turn_id: 't1',
    function_call_id: 'c1',
    function_id: 'shell::exec',
    args: {},
    requested_at: Date.now(),
  });
  const bothSaw = () => {
    const times = new Map<string, Run[]>();
    for (const run of runs) times.set(run.scheduled, [...(times.get(run.scheduled) ?? []), run]);
    return [...times.values()].filter((r) => r.length === 2);
  };
  await eventually(
    () => {
      if (bothSaw().length < 4) throw new Error(`${bothSaw().length} scheduled runs seen by both copies so far`);
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  for (const pair of bothSaw()) expect(pair.filter((r) => !r.skipped)).toHaveLength(1);
  // Both copies got to run some ticks: the claim is per scheduled run, not a standing lock.
  expect(runs.reduce((sum, r) => sum + r.expired, 0)).toBe(1);
  expect(await store.listHolds('sw')).toEqual([]);
  await eventually(() =>
    expect(events.data().filter((e) => e.type === 'approval_resolved')).toEqual([
      expect.objectContaining({ decision: 'deny' }),
    ]),
  );
  events.stop();
}, 90_000);
