import { connectClient, type DevEngine, startDevEngine, type TestClient } from '@iii-harness/testing';
import { emptyUsage } from '@iii-harness/types';
import { type TurnRecord, TurnStore } from '../src/record.js';

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

const recordFor = (sessionId: string, turnId = 'turn-1'): TurnRecord => ({
  session_id: sessionId,
  turn_id: turnId,
  state: 'assistant_streaming',
  step: 1,
  provider: 'scripted',
  model: 'm',
  max_turns: 5,
  exposure: 'agent_trigger',
  turn_count: 0,
  continue_pending: false,
  usage: emptyUsage(),
  started_at: 1,
  updated_at: 1,
});

describe('TurnStore', () => {
  it('keeps an abort request when a step saves its fields afterwards, and says so', async () => {
    const record = recordFor('s-abort');
    await store.create(record);
    expect(await store.save(record)).toBe(false);
    await store.requestAbort('s-abort', 'turn-1');
    record.step = 2; // the step's copy knows nothing of the abort
    expect(await store.save(record)).toBe(true);
    const stored = await store.get('s-abort');
    expect(stored?.step).toBe(2);
    expect(stored?.abort?.turn_id).toBe('turn-1');
    expect(await store.abortRequested(record)).toBe(true);
  });

  it('ignores an abort that names another turn, and a new turn starts without it', async () => {
    const first = recordFor('s-next', 'turn-a');
    await store.create(first);
    await store.requestAbort('s-next', 'turn-a');
    const second = recordFor('s-next', 'turn-b');
    await store.create(second);
    expect(await store.abortRequested(second)).toBe(false);
    expect((await store.get('s-next'))?.abort).toBeUndefined();
    await store.requestAbort('s-next', 'turn-a');
    expect(await store.save(second)).toBe(false);
  });

  it('removes fields a step cleared, so the record is exactly what the step holds', async () => {
    const record: TurnRecord = { ...recordFor('s-clear'), batch: { assistant_entry_id: 'e', calls: [] }, reason: 'r' };
    await store.create(record);
    delete record.batch;
    record.reason = undefined;
    await store.save(record);
    const stored = await store.get('s-clear');
    expect(stored?.batch).toBeUndefined();
    expect(stored && 'reason' in stored).toBe(false);
  });
});
