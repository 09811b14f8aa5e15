/**
 * Issue 18, engine side: the SDK's telemetry reaches `engine::traces::*` / `engine::logs::*`
 * with the real observability worker's shapes; the `trace` trigger reports new trace ids.
 * Spans come from a real iii-sdk@0.22.1 worker with OpenTelemetry on (they travel over `/otel`
 * exactly as the SDK sends them) and from hand-built frames where exact values matter.
 */
import type { IIIClient } from 'iii-sdk';
import type { RunningEngine } from '../src/index.js';
import {
  connectWorker,
  quietSdk,
  RawClient,
  startTestEngine,
  waitFor,
  waitForFunction,
} from './helpers/conformance.js';
import { logsFrame, openOtel, spanId, spansFrame, traceId } from './helpers/otlp.js';

jest.setTimeout(30_000);

let engine: RunningEngine;
let traced: IIIClient;
let caller: IIIClient;

const call = <T = any>(function_id: string, payload: unknown) => caller.trigger({ function_id, payload }) as Promise<T>;

beforeAll(async () => {
  quietSdk();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  engine = await startTestEngine();
  traced = connectWorker(engine.url, 'traced', {
    otel: {
      enabled: true,
      serviceName: 'traced-svc',
      spansFlushIntervalMs: 20,
      logsFlushIntervalMs: 20,
      metricsEnabled: false,
    },
  });
  traced.registerFunction('obs::outer', async () => {
    await traced.trigger({ function_id: 'obs::inner', payload: {} }).catch(() => undefined);
    return 'outer done';
  });
  traced.registerFunction('obs::inner', async () => {
    throw new Error('inner failed');
  });
  caller = connectWorker(engine.url, 'caller');
  await waitForFunction(caller, 'obs::inner');
});

afterAll(async () => {
  await traced.shutdown();
  await caller.shutdown();
  await engine.close();
});

test('spans the SDK exports form one trace: list, tree and group_by agree', async () => {
  // A raw caller sets the W3C baggage a harness turn carries; the SDK copies it onto its spans.
  const raw = await RawClient.connect(engine.url);
  await raw.invoke('obs::outer', {}, { baggage: 'iii.session.id=session-1,iii.message.id=m-1' });
  await raw.close();

  const list = await waitFor(async () => {
    const r = await call('engine::traces::list', { attributes: [['iii.session.id', 'session-1']] });
    return r.spans.length === 1 ? r : undefined;
  });
  expect(list).toMatchObject({ total: 1, offset: 0, limit: 100 });
  const root = list.spans[0];
  expect(root).toMatchObject({
    name: 'execute obs::outer',
    parent_span_id: null,
    status: 'ok',
    service_name: 'traced-svc',
    trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
    links: [],
  });
  expect(root.attributes).toEqual(
    expect.arrayContaining([
      ['iii.session.id', 'session-1'],
      ['iii.message.id', 'm-1'],
    ]),
  );
  expect(root.end_time_unix_nano).toBeGreaterThanOrEqual(root.start_time_unix_nano);
  expect(root.events.map((e: { name: string }) => e.name)).toEqual(['iii.invocation.input', 'iii.invocation.output']);

  const { roots } = await waitFor(async () => {
    const t = await call('engine::traces::tree', { trace_id: root.trace_id });
    return t.roots[0]?.children.length === 1 ? t : undefined;
  });
  expect(roots).toHaveLength(1);
  expect(roots[0]).toMatchObject({ span_id: root.span_id, name: 'execute obs::outer' });
  expect(roots[0].children[0]).toMatchObject({
    name: 'execute obs::inner',
    parent_span_id: root.span_id,
    status: 'error',
    status_description: 'inner failed',
    children: [],
  });
  expect(roots[0].children[0].attributes).toEqual(expect.arrayContaining([['iii.function.id', 'obs::inner']]));

  const { groups } = await call('engine::traces::group_by', { attribute: 'iii.session.id' });
  expect(groups).toEqual([
    {
      value: 'session-1',
      label: null,
      trace_ids: [root.trace_id],
      span_count: 2,
      first_seen_ms: expect.any(Number),
      last_seen_ms: expect.any(Number),
      duration_ms: expect.any(Number),
      error_count: 1,
    },
  ]);
});

describe('hand-built frames', () => {
  let otel: Awaited<ReturnType<typeof openOtel>>;
  beforeAll(async () => {
    otel = await openOtel(engine.url);
    await call('engine::traces::clear', {});
  });
  afterAll(() => otel.close());

  test('list filters, sorts, pages and hides engine-internal roots', async () => {
    const base = Date.now();
    otel.send(
      spansFrame('svc-a', [
        { traceId: traceId(1), spanId: spanId(1), name: 'execute a::fast', startMs: base, durationMs: 2 },
        {
          traceId: traceId(2),
          spanId: spanId(2),
          name: 'execute a::slow',
          startMs: base + 10,
          durationMs: 50,
          error: 'x',
        },
        {
          traceId: traceId(2),
          spanId: spanId(3),
          parentSpanId: spanId(2),
          name: 'execute a::child',
          startMs: base + 11,
        },
        {
          traceId: traceId(3),
          spanId: spanId(4),
          name: 'call engine::functions::list',
          startMs: base + 20,
          attributes: { function_id: 'engine::functions::list' },
        },
      ]),
    );
    otel.send(
      spansFrame('svc-b', [{ traceId: traceId(4), spanId: spanId(5), name: 'execute b::one', startMs: base + 30 }]),
    );
    const all = await waitFor(async () => {
      const r = await call('engine::traces::list', {});
      return r.total === 3 ? r : undefined;
    });
    expect(all.spans.map((s: { name: string }) => s.name)).toEqual([
      'execute a::fast',
      'execute a::slow',
      'execute b::one',
    ]);
    const withInternal = await call('engine::traces::list', { include_internal: true });
    expect(withInternal.total).toBe(4);
    expect((await call('engine::traces::list', { service_name: 'SVC-A' })).total).toBe(2);
    expect((await call('engine::traces::list', { status: 'error' })).spans[0].name).toBe('execute a::slow');
    expect((await call('engine::traces::list', { min_duration_ms: 10 })).total).toBe(1);
    expect((await call('engine::traces::list', { name: 'child' })).total).toBe(0);
    expect((await call('engine::traces::list', { name: 'child', search_all_spans: true })).spans[0].name).toBe(
      'execute a::slow',
    );
    const desc = await call('engine::traces::list', { sort_by: 'duration', sort_order: 'desc', limit: 1, offset: 0 });
    expect(desc).toMatchObject({ total: 3, limit: 1, spans: [{ name: 'execute a::slow' }] });
    const page = await call('engine::traces::list', { offset: 2, limit: 5 });
    expect(page.spans.map((s: { name: string }) => s.name)).toEqual(['execute b::one']);
    expect((await call('engine::traces::list', { trace_ids: [traceId(1), traceId(4)] })).total).toBe(2);
    await expect(call('engine::traces::list', { limit: -1 })).rejects.toMatchObject({ code: 'deserialization_error' });
  });

  test('group_by skips spans without the attribute, labels, honours since_ms and limit', async () => {
    const base = Date.now();
    otel.send(
      spansFrame('svc-g', [
        {
          traceId: traceId(10),
          spanId: spanId(10),
          name: 'execute g::1',
          startMs: base,
          attributes: { 'iii.session.id': 's-old', 'iii.session.name': 'first name' },
        },
        {
          traceId: traceId(11),
          spanId: spanId(11),
          name: 'execute g::2',
          startMs: base + 5,
          attributes: { 'iii.session.id': 's-old', 'iii.session.name': 'renamed' },
        },
        {
          traceId: traceId(12),
          spanId: spanId(12),
          name: 'execute g::3',
          startMs: base + 100,
          attributes: { 'iii.session.id': 's-new' },
        },
        { traceId: traceId(13), spanId: spanId(13), name: 'execute g::4', startMs: base + 200 },
      ]),
    );
    const { groups } = await waitFor(async () => {
      const r = await call('engine::traces::group_by', {
        attribute: 'iii.session.id',
        label_attribute: 'iii.session.name',
      });
      return r.groups.length === 2 ? r : undefined;
    });
    expect(groups.map((g: { value: string }) => g.value)).toEqual(['s-new', 's-old']);
    expect(groups[1]).toMatchObject({ label: 'renamed', trace_ids: [traceId(10), traceId(11)], span_count: 2 });
    expect((await call('engine::traces::group_by', { attribute: 'iii.session.id', limit: 1 })).groups).toHaveLength(1);
    const recent = await call('engine::traces::group_by', { attribute: 'iii.session.id', since_ms: base + 50 });
    expect(recent.groups.map((g: { value: string }) => g.value)).toEqual(['s-new']);
  });

  test('logs: stored newest first, filtered, cleared; engine::log::* lands there too', async () => {
    await call('engine::logs::clear', {});
    const base = Date.now() - 60_000; // well before the engine::log::warn below
    otel.send(
      logsFrame('svc-l', [
        {
          body: 'first',
          severityNumber: 9,
          severityText: 'INFO',
          timeMs: base,
          traceId: traceId(20),
          spanId: spanId(20),
          attributes: { n: 1 },
        },
        { body: 'second', severityNumber: 17, severityText: 'ERROR', timeMs: base + 1 },
      ]),
    );
    await call('engine::log::warn', { message: 'from the engine function', data: { k: 'v' }, service_name: 'svc-fn' });
    const all = await waitFor(async () => {
      const r = await call('engine::logs::list', {});
      return r.total === 3 ? r : undefined;
    });
    expect(all.logs.map((l: { body: string }) => l.body)).toEqual(['from the engine function', 'second', 'first']);
    expect(all.logs[2]).toEqual({
      timestamp_unix_nano: base * 1_000_000,
      observed_timestamp_unix_nano: base * 1_000_000,
      severity_number: 9,
      severity_text: 'INFO',
      body: 'first',
      attributes: { n: 1 },
      trace_id: traceId(20),
      span_id: spanId(20),
      resource: { 'service.name': 'svc-l', 'telemetry.sdk.language': 'nodejs' },
      service_name: 'svc-l',
      instrumentation_scope_name: 'svc-l',
    });
    expect(all).toMatchObject({ timestamp: expect.any(Number), query: { trace_id: null, limit: null } });
    expect((await call('engine::logs::list', { severity_min: 13 })).total).toBe(2);
    expect((await call('engine::logs::list', { severity_text: 'error' })).logs[0].body).toBe('second');
    expect((await call('engine::logs::list', { trace_id: traceId(20) })).logs[0].body).toBe('first');
    expect((await call('engine::logs::list', { offset: 1, limit: 1 })).logs[0].body).toBe('second');
    await expect(call('engine::logs::clear', {})).resolves.toEqual({ success: true });
    expect((await call('engine::logs::list', {})).total).toBe(0);
  });

  test('traces::clear empties the store', async () => {
    await expect(call('engine::traces::clear', {})).resolves.toEqual({ success: true });
    expect((await call('engine::traces::list', { include_internal: true })).total).toBe(0);
    expect((await call('engine::traces::group_by', { attribute: 'iii.session.id' })).groups).toEqual([]);
  });
});

test('the trace trigger reports new trace ids once per window and never feeds itself', async () => {
  const deliveries: string[][] = [];
  const watcher = connectWorker(engine.url, 'watcher');
  watcher.registerFunction('watch::traces', async (data: { trace_ids: string[] }) => {
    deliveries.push(data.trace_ids);
    // Reading traces from the handler must not cause another delivery.
    await watcher.trigger({ function_id: 'engine::traces::list', payload: {} });
  });
  watcher.registerTrigger({ type: 'trace', function_id: 'watch::traces', config: {} });
  watcher.registerFunction(
    'watch::errors',
    async (data: { trace_ids: string[] }) => void deliveries.push(['errors', ...data.trace_ids]),
  );
  watcher.registerTrigger({ type: 'trace', function_id: 'watch::errors', config: { status: 'ERROR' } });
  await waitFor(async () => {
    const { registered_triggers } = await call('engine::registered-triggers::list', { trigger_type: 'trace' });
    return registered_triggers.length === 2;
  });
  const otel = await openOtel(engine.url);
  const base = Date.now();
  otel.send(
    spansFrame('svc-t', [
      { traceId: traceId(30), spanId: spanId(30), name: 'execute t::a', startMs: base },
      { traceId: traceId(31), spanId: spanId(31), name: 'execute t::b', startMs: base, error: 'boom' },
      { traceId: traceId(32), spanId: spanId(32), name: 'execute engine::x', startMs: base },
      { traceId: traceId(33), spanId: spanId(33), name: 'execute watch::traces', startMs: base },
    ]),
  );
  await waitFor(() => deliveries.length >= 2);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(deliveries).toEqual(
    expect.arrayContaining([
      [traceId(30), traceId(31)],
      ['errors', traceId(31)],
    ]),
  );
  expect(deliveries).toHaveLength(2);
  otel.close();
  await watcher.shutdown();
});
