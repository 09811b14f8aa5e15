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
 * `harness::send` retried, or racing another start, never leaves a message unanswered or answers
 * it twice:
 * - while `run::start` answers `session_busy` with no live turn (another start holds the session's
 *   claim; a start that died holds it until the claim expires), the send looks again until a turn
 *   starts or appears; it never answers "merged" into a turn that does not exist;
 * - a retry whose first try appended the message, with a turn started since, returns that turn.
 * Stand-ins play the session and turn workers, scripted per session id.
 */
const { harness, session, run, turn } = contracts;

interface Script {
  /** How many starts answer session_busy before one wins (Infinity: never). */
  busy: number;
  /** After this many busy answers, a live turn appears (another start's). */
  liveAfter?: number;
  /** An earlier try appended the message at this time (append answers created: false). */
  appendedAt?: number;
  /** The session's turn ended; it started at this time. */
  endedTurnAt?: number;
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
    if (s.endedTurnAt !== undefined)
      return { ...liveView(session_id), turn_id: `ended-${session_id}`, state: 'stopped', started_at: s.endedTurnAt };
    throw toWireError(new HarnessError('not_found', 'no turn'));
  });
  stand.client.registerFunction(
    session.append.id,
    async ({ session_id, entry_id, entry }: { session_id: string; entry_id: string; entry: object }) => {
      const earlier = scripts.get(session_id)!.appendedAt;
      const at = earlier ?? now;
      const stored = { ...entry, id: entry_id, parent_id: null, seq: 1, depth: 0, revision: 0 };
      return { entry_id, created: earlier === undefined, entry: { ...stored, created_at: at, updated_at: at } };
    },
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

it('a retry whose first try appended the message returns the turn started since, and starts none', async () => {
  const now = Date.now();
  const s = script('retried', { appendedAt: now - 5_000, endedTurnAt: now - 4_000 });
  await expect(sendTo('retried', 'k-retried')).resolves.toEqual({
    session_id: 'retried',
    turn_id: 'ended-retried',
    merged: false,
  });
  expect(s.starts).toBe(0);
});

it('a retry whose first try appended the message but started no turn starts one', async () => {
  const now = Date.now();
  const s = script('retried-unstarted', { appendedAt: now - 5_000, endedTurnAt: now - 60_000 });
  await expect(sendTo('retried-unstarted', 'k-retried-unstarted')).resolves.toMatchObject({
    turn_id: 't-retried-unstarted',
    merged: false,
  });
  expect(s.starts).toBe(1);
});
