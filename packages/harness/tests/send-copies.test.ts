import { HarnessError, toWireError, type WorkerSpec } from '@iii-harness/runtime';
import {
  connectClient,
  type DevEngine,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contract, contracts } from '@iii-harness/types';
import { type Config, configSchema } from '../src/index.js';
import { send } from '../src/send.js';

/**
 * `harness::send` with an idempotency key, delivered through two copies of the harness at once
 * (`a::send`, `b::send`: the same handler, two processes' worth of state): one user entry, one
 * turn, one answer for all. The session and turn workers are stand-ins that count their calls
 * and take their time, so concurrent deliveries would overlap.
 */
const { harness, session, run, turn } = contracts;

function copyOf(x: string): WorkerSpec<Config> {
  return {
    name: x,
    description: `harness copy ${x}`,
    config: configSchema,
    register(worker) {
      worker.function(contract({ ...harness.send, id: `${x}::send` }), send(worker.config, worker.leases));
    },
  };
}

let engine: DevEngine;
let copies: TestWorker<Config>[];
let stand: TestClient;
const calls = { append: 0, start: 0 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  engine = await startDevEngine();
  stand = await connectClient(engine.url, 'stand-ins');
  const now = Date.now();
  const info = (session_id: string) => ({
    session_id,
    created_at: now,
    updated_at: now,
    leaf_id: null,
    entry_count: 0,
    seq: 0,
  });
  stand.client.registerFunction(session.ensure.id, async ({ session_id }: { session_id: string }) => ({
    session: info(session_id),
    created: false,
  }));
  stand.client.registerFunction(turn.getState.id, async () => {
    throw toWireError(new HarnessError('not_found', 'no turn'));
  });
  stand.client.registerFunction(session.append.id, async ({ entry_id, entry }: { entry_id: string; entry: object }) => {
    calls.append++;
    await sleep(30);
    return {
      entry_id,
      created: true,
      entry: {
        ...entry,
        id: entry_id,
        parent_id: null,
        seq: 1,
        depth: 0,
        revision: 0,
        created_at: now,
        updated_at: now,
      },
    };
  });
  stand.client.registerFunction(run.start.id, async () => {
    calls.start++;
    await sleep(30);
    return { turn_id: `t${calls.start}`, started: true };
  });
  const config = { default_provider: 'anthropic', default_model: 'm', permissions_path: '/nonexistent.yaml' };
  copies = [
    await startTestWorker(copyOf('a'), { url: engine.url, config }),
    await startTestWorker(copyOf('b'), { url: engine.url, config }),
  ];
}, 60_000);

afterAll(async () => {
  for (const c of copies ?? []) await c.shutdown();
  await stand?.close();
  await engine?.close();
});

it('delivers a keyed send once, whichever copies it reaches and however often', async () => {
  const answers = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      stand.bus.invoke(`${i % 2 ? 'a' : 'b'}::send`, { session_id: 's1', text: 'hello', idempotency_key: 'k-1' }),
    ),
  );
  expect(calls).toEqual({ append: 1, start: 1 });
  expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
  expect(answers[0]).toEqual({ session_id: 's1', turn_id: 't1', merged: false });
}, 60_000);
