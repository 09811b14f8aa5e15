import {
  collectStream,
  connectClient,
  type DevEngine,
  eventually,
  type StreamCollector,
  startDevEngine,
  startTestWorker,
  type TestClient,
  type TestWorker,
} from '@iii-harness/testing';
import { AGENT_EVENTS_STREAM } from '@iii-harness/types';
import { approvalGateWorker, type Config } from '../src/index.js';

let engine: DevEngine;
let gate: TestWorker<Config>;
let client: TestClient;
let events: StreamCollector<{ type: string; function_call_id?: string; decision?: string; seq: number }>;
const wakes: unknown[] = [];
const config = { pending_timeout_ms: 60_000, sweep_cron: '* * * * * *' };

beforeAll(async () => {
  engine = await startDevEngine();
  gate = await startTestWorker(approvalGateWorker, { url: engine.url, config });
  client = await connectClient(engine.url);
  // Stands in for the turn orchestrator's parked step.
  client.client.registerFunction('turn::function_awaiting_approval', async (job: unknown) => void wakes.push(job));
  events = collectStream(client.client, AGENT_EVENTS_STREAM, 's1');
  await client.bus.call('engine::functions::list', {});
});

afterAll(async () => {
  events.stop();
  await client.close();
  await gate.shutdown();
  await engine.close();
});

const call = <T = any>(id: string, payload: unknown) => client.bus.call<T>(id, payload);
const hold = (callId: string, session = 's1', fn = 'shell::exec') =>
  call('approval::hold', {
    session_id: session,
    turn_id: 't1',
    function_call_id: callId,
    function_id: fn,
    args: { command: 'ls' },
  });

describe('approval-gate', () => {
  it('holds a call once, lists it, and emits approval_requested once', async () => {
    expect(await hold('c1')).toMatchObject({
      created: true,
      hold: { function_call_id: 'c1', function_id: 'shell::exec' },
    });
    expect(await hold('c1')).toMatchObject({ created: false });
    const { pending } = await call('approval::list_pending', { session_id: 's1' });
    expect(pending.map((h: { function_call_id: string }) => h.function_call_id)).toEqual(['c1']);
    await eventually(() => expect(events.data().filter((e) => e.type === 'approval_requested')).toHaveLength(1));
    expect(await call('approval::get_decision', { session_id: 's1', function_call_id: 'c1' })).toEqual({
      pending: true,
    });
  });

  it('resolves a hold exactly once, records the decision, emits and wakes the turn', async () => {
    expect(await call('approval::resolve', { session_id: 's1', function_call_id: 'c1', decision: 'allow' })).toEqual({
      decision: 'allow',
      already_resolved: false,
    });
    expect(await call('approval::resolve', { session_id: 's1', function_call_id: 'c1', decision: 'deny' })).toEqual({
      decision: 'allow',
      already_resolved: true,
    });
    expect((await call('approval::list_pending', { session_id: 's1' })).pending).toEqual([]);
    expect(await call('approval::get_decision', { session_id: 's1', function_call_id: 'c1' })).toMatchObject({
      pending: false,
      decision: { decision: 'allow' },
    });
    await eventually(() => expect(wakes).toEqual([{ session_id: 's1', turn_id: 't1', wake: true }]));
    await eventually(() =>
      expect(events.data().filter((e) => e.type === 'approval_resolved')).toEqual([
        expect.objectContaining({ function_call_id: 'c1', decision: 'allow' }),
      ]),
    );
    const seqs = events.data().map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('resolves concurrent decisions on one hold exactly once', async () => {
    await hold('c2');
    const results = await Promise.all(
      ['allow', 'deny', 'allow'].map((decision) =>
        call('approval::resolve', { session_id: 's1', function_call_id: 'c2', decision }),
      ),
    );
    expect(results.filter((r: { already_resolved: boolean }) => !r.already_resolved).length).toBeLessThanOrEqual(1);
    await eventually(() =>
      expect(events.data().filter((e) => e.type === 'approval_resolved' && e.function_call_id === 'c2')).toHaveLength(
        1,
      ),
    );
  });

  it('answers not_found for an unknown hold', async () => {
    await expect(
      call('approval::resolve', { session_id: 's1', function_call_id: 'nope', decision: 'allow' }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('adds the function to the always-allow list when resolved with always', async () => {
    await hold('c3', 's2', 'fs::write');
    await call('approval::resolve', { session_id: 's2', function_call_id: 'c3', decision: 'allow', always: true });
    expect(await call('approval::get_settings', { session_id: 's2' })).toMatchObject({
      mode: 'manual',
      always_allow: ['fs::write'],
    });
  });

  it('manages per-session settings', async () => {
    expect(await call('approval::get_settings', { session_id: 's3' })).toMatchObject({
      mode: 'manual',
      always_allow: [],
    });
    expect(await call('approval::set_mode', { session_id: 's3', mode: 'auto' })).toMatchObject({ mode: 'auto' });
    await call('approval::add_always_allow', { session_id: 's3', function_id: 'b::x' });
    expect(await call('approval::add_always_allow', { session_id: 's3', function_id: 'a::y' })).toMatchObject({
      always_allow: ['a::y', 'b::x'],
    });
    expect(await call('approval::remove_always_allow', { session_id: 's3', function_id: 'b::x' })).toMatchObject({
      mode: 'auto',
      always_allow: ['a::y'],
    });
    expect(await call('approval::clear_settings', { session_id: 's3' })).toEqual({ cleared: true });
    expect(await call('approval::get_settings', { session_id: 's3' })).toMatchObject({
      mode: 'manual',
      always_allow: [],
    });
  });

  it('cancels a hold as aborted', async () => {
    await hold('c4');
    expect(await call('approval::cancel', { session_id: 's1', function_call_id: 'c4' })).toEqual({ cancelled: true });
    expect(await call('approval::get_decision', { session_id: 's1', function_call_id: 'c4' })).toMatchObject({
      decision: { decision: 'aborted' },
    });
    expect(await call('approval::cancel', { session_id: 's1', function_call_id: 'c4' })).toEqual({ cancelled: false });
  });

  it('keeps holds across a restart of the gate', async () => {
    await hold('c5', 's4');
    await gate.shutdown();
    gate = await startTestWorker(approvalGateWorker, { url: engine.url, config });
    expect((await call('approval::list_pending', { session_id: 's4' })).pending).toHaveLength(1);
  });

  it('denies holds older than pending_timeout_ms from the sweep', async () => {
    await gate.shutdown();
    gate = await startTestWorker(approvalGateWorker, {
      url: engine.url,
      config: { ...config, pending_timeout_ms: 300 },
    });
    await hold('c6', 's5');
    await eventually(
      async () =>
        expect(await call('approval::get_decision', { session_id: 's5', function_call_id: 'c6' })).toMatchObject({
          decision: { decision: 'deny', reason: expect.stringContaining('timed out') },
        }),
      { timeoutMs: 5_000 },
    );
    expect((await call('approval::list_pending', { session_id: 's5' })).pending).toEqual([]);
  });

  it.each([
    ['approval::hold', { session_id: 'a/b', turn_id: 't', function_call_id: 'c', function_id: 'f', args: {} }],
    ['approval::resolve', { session_id: 's1', function_call_id: 'c1', decision: 'maybe' }],
    ['approval::cancel', { session_id: 's1' }],
    ['approval::get_decision', { function_call_id: 'c1' }],
    ['approval::list_pending', { session_id: 7 }],
    ['approval::get_settings', {}],
    ['approval::set_mode', { session_id: 's9', mode: 'yolo' }],
    ['approval::add_always_allow', { session_id: 's9' }],
    ['approval::remove_always_allow', { session_id: 's9', function_id: '' }],
    ['approval::clear_settings', { session_id: '' }],
  ])('%s rejects %j with invalid_payload and changes nothing', async (id, payload) => {
    const before = [
      await call('approval::list_pending', {}),
      await call('approval::get_settings', { session_id: 's9' }),
    ];
    await expect(call(id, payload)).rejects.toMatchObject({ code: 'invalid_payload' });
    expect([
      await call('approval::list_pending', {}),
      await call('approval::get_settings', { session_id: 's9' }),
    ]).toEqual(before);
  });

  it('documents every function', async () => {
    for (const id of [
      'hold',
      'resolve',
      'cancel',
      'get_decision',
      'list_pending',
      'get_settings',
      'set_mode',
      'add_always_allow',
      'remove_always_allow',
      'clear_settings',
      'sweep',
    ]) {
      expect(await call('engine::functions::info', { function_id: `approval::${id}` })).toMatchObject({
        description: expect.any(String),
        request_schema: expect.any(Object),
        response_schema: expect.any(Object),
      });
    }
  });
});
