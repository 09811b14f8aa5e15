import { AgentEvents } from '@iii-harness/runtime';
import { connectClient, type DevEngine, startDevEngine, type TestClient } from '@iii-harness/testing';
import { emptyUsage } from '@iii-harness/types';
import type { TurnRecord } from '../src/record.js';
import { Fenced, TURN_RECORD_VERSION, TurnStore } from '../src/store.js';

let engine: DevEngine;
let client: TestClient;
let store: TurnStore;

beforeAll(async () => {
  engine = await startDevEngine();
  client = await connectClient(engine.url);
  store = new TurnStore(client.bus);
});
afterAll(async () => {
  await client.close();
  await engine.close();
});

const recordFor = (sessionId: string, turnId = 'turn-1', extra: Partial<TurnRecord> = {}): TurnRecord => ({
  session_id: sessionId,
  turn_id: turnId,
  state: 'assistant_streaming',
  step: 1,
  provider: 'scripted',
  model: 'm',
  max_turns: 5,
  exposure: 'agent_trigger',
  generations: 0,
  model_has_news: false,
  usage: emptyUsage(),
  started_at: 1,
  updated_at: 1,
  ...extra,
});

/** What run::start does: claim the start, then create the record. */
async function createTurn(sessionId: string, record: TurnRecord, reserve: number) {
  const nonce = `n-${Math.random()}`;
  const claim = await store.claimStart(sessionId, nonce, 10_000);
  if (!claim.won) throw new Error('start claim lost');
  return store.create({ ...claim, nonce }, record, reserve);
}

const raw = (sessionId: string) => client.bus.state.get<Record<string, unknown>>('turn_state', sessionId);
const noUpgrade = { stale: [] as string[], upgrade: [] };

describe('TurnStore: fencing without compare-and-set', () => {
  it('a delivery overtaken by a later one cannot change what anyone reads, and learns it at its next write', async () => {
    const id = 's-fence';
    await createTurn(id, recordFor(id), 0);
    const first = await store.claim(id);
    const second = await store.claim(id);
    expect(second.epoch).toBe(first.epoch + 1);
    await store.save(second.epoch, { ...second.record!, step: 2 }, { ...noUpgrade, reserve: 0 });
    // The zombie's write lands under its own (lower) key and is refused: nobody reads it.
    await expect(
      store.save(first.epoch, { ...first.record!, step: 99, state: 'stopped' }, { ...noUpgrade, reserve: 0 }),
    ).rejects.toBeInstanceOf(Fenced);
    expect(await store.get(id)).toMatchObject({ step: 2, state: 'assistant_streaming' });
    // The current delivery's next save removes the stale copies it was told of (the creating write's, the zombie's).
    const saved = await store.save(second.epoch, { ...second.record!, step: 3 }, { ...noUpgrade, reserve: 0 });
    expect(saved.copies.sort()).toEqual(['@1', `@${first.epoch}`, `@${second.epoch}`].sort());
    const cleaned = await store.save(
      second.epoch,
      { ...second.record!, step: 4 },
      { stale: saved.copies, upgrade: [], reserve: 0 },
    );
    expect(cleaned.copies).toEqual([`@${second.epoch}`]);
    expect(Object.keys((await raw(id))!).filter((k) => k.startsWith('@'))).toEqual([`@${second.epoch}`]);
  });

  it('a write of an overtaken delivery before the later one wrote stays invisible once that one writes', async () => {
    const id = 's-fence-early';
    await createTurn(id, recordFor(id), 0);
    const zombie = await store.claim(id);
    const current = await store.claim(id);
    await expect(
      store.save(zombie.epoch, { ...zombie.record!, step: 50 }, { ...noUpgrade, reserve: 0 }),
    ).rejects.toBeInstanceOf(Fenced);
    await store.save(current.epoch, { ...current.record!, step: 2 }, { ...noUpgrade, reserve: 0 });
    expect((await store.get(id))?.step).toBe(2);
  });
});

describe('TurnStore: abort flag and event numbers', () => {
  it('keeps an abort request when a delivery saves afterwards, and says so', async () => {
    const id = 's-abort';
    await createTurn(id, recordFor(id), 0);
    const claimed = await store.claim(id);
    expect((await store.save(claimed.epoch, claimed.record!, { ...noUpgrade, reserve: 0 })).aborted).toBe(false);
    await store.requestAbort(id, 'turn-1');
    const saved = await store.save(claimed.epoch, { ...claimed.record!, step: 2 }, { ...noUpgrade, reserve: 0 });
    expect(saved.aborted).toBe(true);
    expect((await store.read(id))?.abort?.turn_id).toBe('turn-1');
  });

  it('a new turn replaces an ended one: fresh epoch, no abort of the old turn, event numbers go on', async () => {
    const id = 's-next';
    const first = await createTurn(id, recordFor(id, 'turn-a', { state: 'stopped' }), 3);
    expect(first).toEqual({ first: 1, last: 3 });
    await store.requestAbort(id, 'turn-a');
    const previous = await store.read(id);
    const second = await createTurn(id, recordFor(id, 'turn-b', { state: 'provisioning' }), 2);
    expect(second).toEqual({ first: 4, last: 5 });
    const stored = await store.read(id);
    expect(stored?.record?.turn_id).toBe('turn-b');
    expect(stored?.abort).toBeUndefined();
    expect(stored?.epoch).toBe((previous?.epoch ?? 0) + 1);
  });

  it('numbers reserved by saves and taken by another emitter never collide', async () => {
    const id = 's-seq';
    await createTurn(id, recordFor(id), 2);
    const claimed = await store.claim(id);
    const saved = await store.save(claimed.epoch, claimed.record!, { ...noUpgrade, reserve: 4 });
    const gate = await new AgentEvents(client.bus).emit(id, 'turn-1', {
      type: 'approval_resolved',
      function_call_id: 'c1',
      decision: 'allow',
    });
    const more = await store.reserve(id, 2);
    expect(saved.reserved).toEqual({ first: 3, last: 6 });
    expect(gate.seq).toBe(7);
    expect(more).toEqual({ first: 8, last: 9 });
  });
});

describe('TurnStore: a new turn and the late jobs of the one it replaced', () => {
  it('a job of the ended turn that claims the session while the next turn is created never hides it', async () => {
    const id = 's-late-job';
    await createTurn(id, recordFor(id, '01a00000-0000-7000-8000-000000000001', { state: 'stopped' }), 0);
    // run::start of the next turn claims the start ...
    const nonce = 'n-next';
    const claim = await store.claimStart(id, nonce, 10_000);
    expect(claim.won).toBe(true);
    // ... a late job of the ended turn is delivered meanwhile and takes the next epoch ...
    const late = await store.claim(id);
    // ... the next turn is created ...
    const next = recordFor(id, '01a00000-0000-7000-8000-000000000002', { state: 'provisioning' });
    await store.create({ ...claim, nonce }, next, 0);
    expect(await store.get(id)).toMatchObject({ turn_id: next.turn_id, state: 'provisioning' });
    // ... and the late job writes the ended turn back under the epoch it holds: it is fenced, and
    // what everyone reads is still the new turn.
    await expect(
      store.save(late.epoch, { ...late.record!, step: 7 }, { ...noUpgrade, reserve: 0 }),
    ).rejects.toBeInstanceOf(Fenced);
    expect(await store.get(id)).toMatchObject({ turn_id: next.turn_id, state: 'provisioning' });
    // The next delivery of the new turn finds it.
    expect((await store.claim(id)).record).toMatchObject({ turn_id: next.turn_id });
  });
});

describe('TurnStore: one start at a time, across copies', () => {
  it('lets exactly one of concurrent starts win, through engine state alone', async () => {
    const id = 's-starts';
    // Separate stores on separate connections: two copies of the orchestrator.
    const other = await connectClient(engine.url);
    const stores = [store, new TurnStore(other.bus)];
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => stores[i % 2]!.claimStart(id, `c${i}`, 10_000).then((c) => ({ ...c, i }))),
    );
    await other.close();
    const winners = claims.filter((c) => c.won);
    expect(winners).toHaveLength(1);
    for (const loser of claims.filter((c) => !c.won)) await store.dropStart(id, `c${loser.i}`);
    await store.create(
      { ...winners[0]!, nonce: `c${winners[0]!.i}` },
      recordFor(id, 'turn-x', { state: 'provisioning' }),
      1,
    );
    // Nothing of the starts is left, and the live turn refuses the next one.
    expect(Object.keys((await raw(id))!).filter((k) => k.startsWith('start:'))).toEqual([]);
    const next = await store.claimStart(id, 'late', 10_000);
    expect(next.won).toBe(false);
    expect(next.stored.record?.turn_id).toBe('turn-x');
  });

  it('a start that died after claiming holds the session up for the claim time only', async () => {
    const id = 's-dead-start';
    expect((await store.claimStart(id, 'dead', 200)).won).toBe(true);
    expect((await store.claimStart(id, 'early', 200)).won).toBe(false);
    await store.dropStart(id, 'early');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const later = await store.claimStart(id, 'later', 200);
    expect(later).toMatchObject({ won: true, stale: ['start:dead'] });
    await store.create({ ...later, nonce: 'later' }, recordFor(id), 0);
    expect(Object.keys((await raw(id))!).filter((k) => k.startsWith('start:'))).toEqual([]);
  });
});

describe('TurnStore: versions', () => {
  it('reads a version-1 record (fields at the top, counter elsewhere), migrates it, and upgrades it in place', async () => {
    const id = 's-v1';
    const v1 = {
      session_id: id,
      turn_id: 'old-turn',
      state: 'steering_check',
      step: 4,
      provider: 'scripted',
      model: 'm',
      max_turns: 8,
      exposure: 'agent_trigger',
      turn_count: 2,
      continue_pending: true,
      usage: emptyUsage(),
      started_at: 1,
      updated_at: 2,
      abort: { turn_id: 'old-turn', requested_at: 3 },
    };
    await client.bus.state.set('turn_state', id, v1);
    await client.bus.state.set('agent_event_seq', id, { seq: 41 });

    const claimed = await store.claim(id);
    expect(claimed.record).toMatchObject({ turn_id: 'old-turn', generations: 2, model_has_news: true, step: 4 });
    expect(claimed.abort?.turn_id).toBe('old-turn');
    const saved = await store.save(claimed.epoch, claimed.record!, {
      stale: claimed.copies,
      upgrade: claimed.upgrade,
      reserve: 2,
    });
    // Event numbers continue after the old counter's.
    expect(saved.reserved).toEqual({ first: 42, last: 43 });
    const stored = (await raw(id))!;
    expect(stored.v).toBe(TURN_RECORD_VERSION);
    expect(Object.keys(stored).sort()).toEqual([`@${claimed.epoch}`, 'abort', 'epoch', 'event_seq', 'v'].sort());
    expect(await store.get(id)).toMatchObject({ turn_id: 'old-turn', generations: 2 });
  });

  it('refuses a record written by a newer version, and changes nothing', async () => {
    const id = 's-v99';
    await client.bus.state.set('turn_state', id, { v: 99, epoch: 3, '@3': { whatever: true } });
    await expect(store.get(id)).rejects.toMatchObject({
      code: 'unavailable',
      reason: 'unsupported_record_version',
      retryable: false,
    });
    expect(await raw(id)).toEqual({ v: 99, epoch: 3, '@3': { whatever: true } });
  });
});
