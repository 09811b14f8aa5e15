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
import { AGENT_EVENT_SEQ, AGENT_EVENTS_STREAM, contracts } from '@iii-harness/types';
import { approvalGateWorker, type Config, SCOPES } from '../src/index.js';

const { approval, engine: builtins } = contracts;

let engine: DevEngine;
let gate: TestWorker<Config>;
let client: TestClient;
type GateEvent = { type: string; function_call_id?: string; decision?: string; seq: number };
let events: StreamCollector<GateEvent>;
let raceEvents: StreamCollector<GateEvent>;
const wakes: unknown[] = [];
const config = { pending_timeout_ms: 60_000, sweep_cron: '* * * * * *' };

beforeAll(async () => {
  engine = await startDevEngine();
  gate = await startTestWorker(approvalGateWorker, { url: engine.url, config });
  client = await connectClient(engine.url);
  // Stands in for the turn orchestrator's parked step.
  client.client.registerFunction('turn::function_awaiting_approval', async (job: unknown) => void wakes.push(job));
  events = collectStream(client.client, AGENT_EVENTS_STREAM, 's1');
  raceEvents = collectStream(client.client, AGENT_EVENTS_STREAM, 'race');
  await client.bus.call(builtins.functionsList, {});
});

afterAll(async () => {
  events.stop();
  raceEvents.stop();
  await client.close();
  await gate.shutdown();
  await engine.close();
});

const call = <T = any>(id: string, payload: unknown) => client.bus.invoke(id, payload) as Promise<T>;
const hold = (callId: string, session = 's1', fn = 'shell::exec') =>
  client.bus.call(approval.hold, {
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
    const { pending } = await client.bus.call(approval.listPending, { session_id: 's1' });
    expect(pending.map((h: { function_call_id: string }) => h.function_call_id)).toEqual(['c1']);
    // The hold keeps the trace it was made in (its decision continues it); nobody reading holds sees it.
    const stored = await client.bus.call(builtins.stateGet, { scope: SCOPES.pending, key: 's1/c1' });
    expect(stored).toMatchObject({
      trace: { traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/) },
    });
    expect(Object.keys(pending[0]!)).not.toContain('trace');
    await eventually(() => expect(events.data().filter((e) => e.type === 'approval_requested')).toHaveLength(1));
    expect(await client.bus.call(approval.getDecision, { session_id: 's1', function_call_id: 'c1' })).toEqual({
      pending: true,
    });
  });

  it('resolves a hold exactly once, records the decision, emits and wakes the turn', async () => {
    expect(
      await client.bus.call(approval.resolve, { session_id: 's1', function_call_id: 'c1', decision: 'allow' }),
    ).toEqual({
      decision: 'allow',
      already_resolved: false,
    });
    expect(
      await client.bus.call(approval.resolve, { session_id: 's1', function_call_id: 'c1', decision: 'deny' }),
    ).toEqual({
      decision: 'allow',
      already_resolved: true,
    });
    expect((await client.bus.call(approval.listPending, { session_id: 's1' })).pending).toEqual([]);
    expect(await client.bus.call(approval.getDecision, { session_id: 's1', function_call_id: 'c1' })).toMatchObject({
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
      (['allow', 'deny', 'allow'] as const).map((decision) =>
        client.bus.call(approval.resolve, { session_id: 's1', function_call_id: 'c2', decision }),
      ),
    );
    expect(results.filter((r: { already_resolved: boolean }) => !r.already_resolved).length).toBeLessThanOrEqual(1);
    await eventually(() =>
      expect(events.data().filter((e) => e.type === 'approval_resolved' && e.function_call_id === 'c2')).toHaveLength(
        1,
      ),
    );
  });

  it('records the decision that was acted on: stored, emitted, woken and answered agree under a race', async () => {
    for (let round = 0; round < 6; round++) {
      const callId = `race${round}`;
      await hold(callId, 'race');
      const decisions = ['deny', 'allow', 'deny', 'allow', 'deny', 'allow'] as const;
      const results = await Promise.all(
        decisions.map((decision, i) =>
          i === 5
            ? client.bus.call(approval.cancel, { session_id: 'race', function_call_id: callId }).then(() => undefined)
            : client.bus.call(approval.resolve, { session_id: 'race', function_call_id: callId, decision }),
        ),
      );
      const stored = await client.bus.call(approval.getDecision, { session_id: 'race', function_call_id: callId });
      const decided = stored.decision!.decision;
      for (const result of results) if (result) expect(result.decision).toBe(decided);
      expect(results.filter((r) => r && !r.already_resolved).length).toBeLessThanOrEqual(1);
      await eventually(() =>
        expect(
          raceEvents
            .data()
            .filter((e) => e.type === 'approval_resolved' && e.function_call_id === callId)
            .map((e) => e.decision),
        ).toEqual([decided]),
      );
    }
  });

  it('answers not_found for an unknown hold', async () => {
    await expect(
      client.bus.call(approval.resolve, { session_id: 's1', function_call_id: 'nope', decision: 'allow' }),
    ).rejects.toMatchObject({ code: 'not_found' });
  });

  it('adds the function to the always-allow list when resolved with always', async () => {
    await hold('c3', 's2', 'fs::write');
    await client.bus.call(approval.resolve, {
      session_id: 's2',
      function_call_id: 'c3',
      decision: 'allow',
      always: true,
    });
    expect(await client.bus.call(approval.getSettings, { session_id: 's2' })).toMatchObject({
      mode: 'manual',
      always_allow: ['fs::write'],
    });
  });

  it('manages per-session settings', async () => {
    expect(await client.bus.call(approval.getSettings, { session_id: 's3' })).toMatchObject({
      mode: 'manual',
      always_allow: [],
    });
    expect(await client.bus.call(approval.setMode, { session_id: 's3', mode: 'auto' })).toMatchObject({ mode: 'auto' });
    await client.bus.call(approval.addAlwaysAllow, { session_id: 's3', function_id: 'b::x' });
    expect(await client.bus.call(approval.addAlwaysAllow, { session_id: 's3', function_id: 'a::y' })).toMatchObject({
      always_allow: ['a::y', 'b::x'],
    });
    expect(await client.bus.call(approval.removeAlwaysAllow, { session_id: 's3', function_id: 'b::x' })).toMatchObject({
      mode: 'auto',
      always_allow: ['a::y'],
    });
    expect(await client.bus.call(approval.clearSettings, { session_id: 's3' })).toEqual({ cleared: true });
    expect(await client.bus.call(approval.getSettings, { session_id: 's3' })).toMatchObject({
      mode: 'manual',
      always_allow: [],
    });
  });

  it('cancels a hold as aborted', async () => {
    await hold('c4');
    expect(await client.bus.call(approval.cancel, { session_id: 's1', function_call_id: 'c4' })).toEqual({
      cancelled: true,
    });
    expect(await client.bus.call(approval.getDecision, { session_id: 's1', function_call_id: 'c4' })).toMatchObject({
      decision: { decision: 'aborted' },
    });
    expect(await client.bus.call(approval.cancel, { session_id: 's1', function_call_id: 'c4' })).toEqual({
      cancelled: false,
    });
  });

  it('keeps holds across a restart of the gate', async () => {
    await hold('c5', 's4');
    await gate.shutdown();
    gate = await startTestWorker(approvalGateWorker, { url: engine.url, config });
    expect((await client.bus.call(approval.listPending, { session_id: 's4' })).pending).toHaveLength(1);
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
        expect(await client.bus.call(approval.getDecision, { session_id: 's5', function_call_id: 'c6' })).toMatchObject(
          {
            decision: { decision: 'deny', reason: expect.stringContaining('timed out') },
          },
        ),
      { timeoutMs: 5_000 },
    );
    expect((await client.bus.call(approval.listPending, { session_id: 's5' })).pending).toEqual([]);
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
      await client.bus.call(approval.listPending, {}),
      await client.bus.call(approval.getSettings, { session_id: 's9' }),
    ];
    await expect(call(id, payload)).rejects.toMatchObject({ code: 'invalid_payload' });
    expect([
      await client.bus.call(approval.listPending, {}),
      await client.bus.call(approval.getSettings, { session_id: 's9' }),
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
      expect(await client.bus.call(builtins.functionsInfo, { function_id: `approval::${id}` })).toMatchObject({
        description: expect.any(String),
        request_schema: expect.any(Object),
        response_schema: expect.any(Object),
      });
    }
  });

  describe('stored records are versioned', () => {
    const put = (scope: string, key: string, value: unknown) =>
      client.bus.call(builtins.stateSet, { scope, key, value });
    const stored = (scope: string, key: string) => client.bus.call(builtins.stateGet, { scope, key });

    it('reads holds, decisions and settings written before records carried a version', async () => {
      const legacyHold = {
        session_id: 'm1',
        turn_id: 't1',
        function_call_id: 'old',
        function_id: 'shell::exec',
        args: { command: 'ls' },
        requested_at: Date.now(),
      };
      await put(SCOPES.pending, 'm1/old', legacyHold);
      await put(SCOPES.decisions, 'm1/older', { decision: 'deny', decided_at: 1 });
      await put(SCOPES.settings, 'm1', { session_id: 'm1', mode: 'auto', always_allow: ['a::b'], updated_at: 1 });

      expect((await client.bus.call(approval.listPending, { session_id: 'm1' })).pending).toEqual([legacyHold]);
      expect(await client.bus.call(approval.getDecision, { session_id: 'm1', function_call_id: 'older' })).toEqual({
        decision: { decision: 'deny', decided_at: 1 },
        pending: false,
      });
      expect(await client.bus.call(approval.getSettings, { session_id: 'm1' })).toEqual({
        session_id: 'm1',
        mode: 'auto',
        always_allow: ['a::b'],
        updated_at: 1,
      });
      // What the gate writes back is the current version.
      await client.bus.call(approval.resolve, { session_id: 'm1', function_call_id: 'old', decision: 'allow' });
      expect(await stored(SCOPES.decisions, 'm1/old')).toEqual({
        v: 2,
        votes: [{ decision: 'allow', decided_at: expect.any(Number), vote_id: expect.any(String) }],
      });
      await client.bus.call(approval.setMode, { session_id: 'm1', mode: 'manual' });
      expect(await stored(SCOPES.settings, 'm1')).toMatchObject({ v: 1, mode: 'manual', always_allow: ['a::b'] });
      await hold('new', 'm1');
      expect(await stored(SCOPES.pending, 'm1/new')).toMatchObject({ v: 1, function_call_id: 'new' });
    });

    it('keeps a version 1 decision first when a hold it decided is resolved again', async () => {
      // A version 1 gate decided the hold and died before taking it.
      await hold('v1', 'm3');
      await put(SCOPES.decisions, 'm3/v1', { v: 1, decision: 'deny', reason: 'no', decided_at: 5 });
      expect(
        await client.bus.call(approval.resolve, { session_id: 'm3', function_call_id: 'v1', decision: 'allow' }),
      ).toEqual({ decision: 'deny', already_resolved: true });
      expect(await client.bus.call(approval.getDecision, { session_id: 'm3', function_call_id: 'v1' })).toEqual({
        decision: { decision: 'deny', reason: 'no', decided_at: 5 },
        pending: false,
      });
    });

    it('refuses a record of a newer version with a clear error, and cancel surfaces it', async () => {
      await put(SCOPES.pending, 'm2/future', { v: 99, session_id: 'm2', shape: 'from the future' });
      const refused = {
        code: 'unavailable',
        reason: 'unsupported_record_version',
        message:
          'approval hold at approval_pending/m2/future has version 99; this worker reads versions up to 1 (upgrade the worker)',
      };
      await expect(
        client.bus.call(approval.getDecision, { session_id: 'm2', function_call_id: 'future' }),
      ).rejects.toMatchObject(refused);
      await expect(
        client.bus.call(approval.cancel, { session_id: 'm2', function_call_id: 'future' }),
      ).rejects.toMatchObject(refused);
      // Never overwritten by the older worker.
      expect(await stored(SCOPES.pending, 'm2/future')).toEqual({ v: 99, session_id: 'm2', shape: 'from the future' });
      await client.bus.call(builtins.stateDelete, { scope: SCOPES.pending, key: 'm2/future' });
    });
  });

  describe('failures after a decision are logged with their reason, never swallowed', () => {
    it('holds and resolves even when the agent event cannot be written, and says why in the log', async () => {
      // A sequence counter that cannot be incremented makes every event of the session fail.
      await client.bus.call(builtins.stateSet, {
        scope: AGENT_EVENT_SEQ.scope,
        key: 'e1',
        value: { [AGENT_EVENT_SEQ.field]: 'broken' },
      });
      expect(await hold('ev1', 'e1')).toMatchObject({ created: true });
      await eventually(() =>
        expect(gate.logs.lines()).toContainEqual(
          expect.objectContaining({
            level: 'error',
            msg: 'call held, but the approval_requested event could not be written',
            err: expect.objectContaining({ message: expect.stringContaining('event sequence of session e1') }),
          }),
        ),
      );
      wakes.length = 0;
      expect(
        await client.bus.call(approval.resolve, { session_id: 'e1', function_call_id: 'ev1', decision: 'deny' }),
      ).toEqual({ decision: 'deny', already_resolved: false });
      expect(gate.logs.lines()).toContainEqual(
        expect.objectContaining({
          level: 'error',
          msg: 'approval decided, but the approval_resolved event could not be written',
          function_call_id: 'ev1',
        }),
      );
      // The wake-up still went out.
      await eventually(() => expect(wakes).toEqual([{ session_id: 'e1', turn_id: 't1', wake: true }]));
    });
  });

  it('masks secrets in the events it writes: by value, and by key name', async () => {
    const key = 'sk-ant-api03-approval-test-0000000001';
    process.env.APPROVAL_TEST_API_KEY = key;
    await gate.shutdown();
    gate = await startTestWorker(approvalGateWorker, { url: engine.url, config });
    delete process.env.APPROVAL_TEST_API_KEY;
    const secrets = collectStream<{ type: string; args?: Record<string, unknown> }>(
      client.client,
      AGENT_EVENTS_STREAM,
      'k1',
    );
    await client.bus.call(approval.hold, {
      session_id: 'k1',
      turn_id: 't1',
      function_call_id: 'c1',
      function_id: 'http::get',
      args: { url: `https://x.example/?key=${key}`, password: 'hunter2-hunter2' },
    });
    await eventually(() => expect(secrets.data()).toHaveLength(1));
    secrets.stop();
    expect(secrets.data()[0]!.args).toEqual({ url: 'https://x.example/?key=[redacted]', password: '[redacted]' });
    // The hold itself keeps the real arguments: the call runs with them once approved.
    expect((await client.bus.call(approval.listPending, { session_id: 'k1' })).pending[0]!.args).toMatchObject({
      url: `https://x.example/?key=${key}`,
    });
  });
});
