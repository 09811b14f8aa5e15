import { HarnessError, toWireError, type WorkerSpec } from '@iii-harness/runtime';
import {
  connectClient,
  type DevEngine,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { contract, contracts, emptyUsage, type TurnView } from '@iii-harness/types';
import { type Config, configSchema } from '../src/index.js';
import { send } from '../src/send.js';

/**
 * `harness::send` while `run::start` answers `session_busy` with no live turn: another start holds
 * the session's claim. A start that died holds it until the claim expires, so the send looks again
 * until a turn starts or appears; it never answers "merged" into a turn that does not exist (the
 * message would sit unanswered). Stand-ins play the session and turn workers, per session id.
 */
const { harness, session, run, turn } = contracts;

interface Script {
  /** How many starts answer session_busy before one wins (Infinity: never). */
  busy: number;
  /** After this many busy answers, a live turn appears (another start's). */
  liveAfter?: number;
  starts: number;
  pushes: unknown[];
}
const scripts = new Map<string, Script>();
const script = (session_id: string, s: Partial<Script>) => {
  const full: Script = { busy: 0, starts: 0, pushes: [], ...s };
  scripts.set(session_id, full);
  return full;
};

const spec: WorkerSpec<Config> = {
  name: 'busy',
  description: 'harness send under a busy session',
  config: configSchema,
  register(worker) {
    worker.function(contract({ ...harness.send, id: 'busy::send' }), send(worker.config, worker.leases));
  },
};

let engine: DevEngine;
let harnessCopy: TestWorker<Config>;
let stand: TestClient;

function liveView(session_id: string): TurnView {
  const now = Date.now();
  return {
    session_id,
    turn_id: `other-${session_id}`,
    state: 'assistant_streaming',
    step: 1,
    provider: 'anthropic',
    model: 'm',
    max_turns: 8,
    generations: 1,
    pending_approvals: [],
    usage: emptyUsage(),
    started_at: now,
    updated_at: now,
  } as TurnView;
}

beforeAll(async () => {
  engine = await startDevEngine();
  stand = await connectClient(engine.url, 'stand-ins');
  const now = Date.now();
  stand.client.registerFunction(session.ensure.id, async ({ session_id }: { session_id: string }) => ({
    session: { session_id, created_at: now, updated_at: now, leaf_id: null, entry_count: 0, seq: 0 },
    created: false,
  }));
  stand.client.registerFunction(turn.getState.id, async ({ session_id }: { session_id: string }) => {
    const s = scripts.get(session_id)!;
    if (s.liveAfter !== undefined && s.starts > s.liveAfter) return liveView(session_id);
    throw toWireError(new HarnessError('not_found', 'no turn'));
  });
  stand.client.registerFunction(
    session.append.id,
    async ({ entry_id, entry }: { entry_id: string; entry: object }) => ({
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
    }),
  );
  stand.client.registerFunction(session.inboxPush.id, async (input: { session_id: string; item: unknown }) => {
    scripts.get(input.session_id)!.pushes.push(input.item);
    return { item_id: 'i1', size: 1 };
  });
  stand.client.registerFunction(run.start.id, async ({ session_id }: { session_id: string }) => {
    const s = scripts.get(session_id)!;
    s.starts++;
    if (s.starts <= s.busy)
      throw toWireError(new HarnessError('conflict', 'a turn is being started', { reason: 'session_busy' }));
    return { turn_id: `t-${session_id}`, started: true };
  });
  const config = { default_provider: 'anthropic', default_model: 'm', permissions_path: '/nonexistent.yaml' };
  harnessCopy = await startTestWorker(spec, { url: engine.url, config: { ...config, start_wait_ms: 1_500 } });
}, 60_000);

afterAll(async () => {
  await harnessCopy?.shutdown();
  await stand?.close();
  await engine?.close();
});

const sendTo = (session_id: string, idempotency_key?: string) =>
  stand.bus.invoke('busy::send', { session_id, text: 'hello', ...(idempotency_key ? { idempotency_key } : {}) });

it('waits out the claim of a start that died, then starts the turn', async () => {
  const s = script('dead-start', { busy: 3 });
  await expect(sendTo('dead-start')).resolves.toEqual({
    session_id: 'dead-start',
    turn_id: 't-dead-start',
    merged: false,
  });
  expect(s.starts).toBe(4);
  expect(s.pushes).toEqual([]);
});

it('joins the turn another start made, and has it look again for the message', async () => {
  const s = script('other-start', { busy: Infinity, liveAfter: 2 });
  const answer = await sendTo('other-start');
  expect(answer).toEqual({ session_id: 'other-start', turn_id: 'other-other-start', merged: true });
  expect(s.pushes).toEqual([{ appended_entry_id: expect.stringMatching(/\S/) }]);
});

it('answers a retryable unavailable, and remembers nothing, when no turn appears in start_wait_ms', async () => {
  const s = script('stuck', { busy: Infinity });
  const error = await sendTo('stuck', 'k-stuck').catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'unavailable' });
  expect(String((error as Error).message)).toMatch(/being started on session stuck/);
  expect(s.pushes).toEqual([]);
  // The key's answer was not stored: once the session is free, the same send starts the turn.
  s.busy = 0;
  await expect(sendTo('stuck', 'k-stuck')).resolves.toEqual({ session_id: 'stuck', turn_id: 't-stuck', merged: false });
}, 20_000);
