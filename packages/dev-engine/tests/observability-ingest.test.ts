/**
 * Telemetry ingestion under bad input and retention limits: garbage, truncated OTLP, wrong
 * shapes, deep nesting and oversized batches are dropped whole and counted, the socket that
 * sent them and every other connection keep working; stored spans and logs stay within the
 * configured count and age.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IIIClient } from 'iii-sdk';
import { defaultConfig, parseConfig, type RunningEngine } from '../src/index.js';
import { connectWorker, quietSdk, sleep, startTestEngine, waitFor, waitForFunction } from './helpers/conformance.js';
import { logsFrame, openOtel, spanId, spansFrame, traceId } from './helpers/otlp.js';

jest.setTimeout(30_000);

beforeAll(() => {
  quietSdk();
});

async function withEngine(
  options: Parameters<typeof startTestEngine>[0],
  run: (engine: RunningEngine, client: IIIClient) => Promise<void>,
) {
  const engine = await startTestEngine(options);
  const client = connectWorker(engine.url, 'reader');
  try {
    await run(engine, client);
  } finally {
    await client.shutdown();
    await engine.close();
  }
}

const health = async (client: IIIClient) =>
  ((await client.trigger({ function_id: 'engine::health::check', payload: {} })) as any).components;

test('bad frames are dropped and counted; the sender and other connections are unaffected', async () => {
  await withEngine({}, async (engine, client) => {
    client.registerFunction('bystander::ping', async () => 'pong');
    await waitForFunction(client, 'bystander::ping');
    const otel = await openOtel(engine.url);
    const good = spansFrame('svc', [
      { traceId: traceId(1), spanId: spanId(1), name: 'execute ok', startMs: Date.now() },
    ]);
    const huge = spansFrame(
      'svc',
      Array.from({ length: 10_001 }, (_, i) => ({ traceId: traceId(2), spanId: spanId(i + 1), name: 'x', startMs: 1 })),
    );
    const deep = Buffer.concat([
      Buffer.from('OTLP'),
      Buffer.from(`{"resourceSpans":${'['.repeat(500)}${']'.repeat(500)}}`),
    ]);
    const bad = [
      Buffer.from('OTLP this is not json'),
      good.subarray(0, good.length - 20), // truncated OTLP
      Buffer.from('OTLP{"resourceSpans":{"not":"an array"}}'),
      Buffer.from('OTLP{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"01"}]}]}]}'), // span without traceId
      Buffer.from('LOGS[1,2,3]'),
      Buffer.from('MTRC{"resourceMetrics":7}'),
      deep,
      huge,
    ];
    for (const frame of bad) otel.send(frame);
    otel.send(good);

    const components = await waitFor(async () => {
      const c = await health(client);
      return c.otel.details.ingestion.dropped_frames === bad.length ? c : undefined;
    });
    expect(components.otel.details.ingestion).toMatchObject({
      frames: bad.length + 1,
      spans: 1,
      dropped_frames: bad.length,
      dropped_by_reason: {
        'invalid JSON': 2,
        'not OTLP': 4,
        'JSON nested too deep': 1,
        'batch too large': 1,
      },
    });
    expect(components.spans.details.stored_spans).toBe(1);
    expect(otel.readyState).toBe(otel.OPEN);
    await expect(client.trigger({ function_id: 'bystander::ping', payload: {} })).resolves.toBe('pong');
    otel.close();
  });
});

test('frames above the telemetry size limit are dropped unparsed', async () => {
  await withEngine({}, async (engine, client) => {
    const otel = await openOtel(engine.url);
    otel.send(Buffer.concat([Buffer.from('OTLP'), Buffer.alloc(17 * 1024 * 1024, 0x20)]));
    await waitFor(async () => (await health(client)).otel.details.ingestion.dropped_by_reason['frame too large'] === 1);
    otel.close();
  });
});

test('telemetry frames sent on a worker socket are ingested like /otel ones', async () => {
  await withEngine({}, async (engine, client) => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(engine.url);
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(spansFrame('svc', [{ traceId: traceId(5), spanId: spanId(5), name: 'execute w', startMs: Date.now() }]));
    await waitFor(async () => (await health(client)).spans.details.stored_spans === 1);
    ws.close();
  });
});

test('retention keeps the newest memory_max_spans / logs_max_count', async () => {
  const config = defaultConfig();
  config.observability = parseConfig(
    'workers:\n  - name: iii-observability\n    config: { memory_max_spans: 10, logs_max_count: 3, logs_console_output: false }\n',
  ).observability;
  await withEngine({ config }, async (engine, client) => {
    const otel = await openOtel(engine.url);
    const base = Date.now();
    for (let batch = 0; batch < 5; batch++)
      otel.send(
        spansFrame(
          'svc',
          Array.from({ length: 5 }, (_, i) => ({
            traceId: traceId(batch * 5 + i + 1),
            spanId: spanId(batch * 5 + i + 1),
            name: `execute n${batch * 5 + i + 1}`,
            startMs: base + batch * 5 + i,
          })),
        ),
      );
    otel.send(
      logsFrame(
        'svc',
        [1, 2, 3, 4, 5].map((n) => ({ body: `log ${n}`, severityNumber: 9, severityText: 'INFO', timeMs: base + n })),
      ),
    );
    await waitFor(async () => (await health(client)).otel.details.ingestion.spans === 25);
    const list = (await client.trigger({ function_id: 'engine::traces::list', payload: {} })) as any;
    expect(list.total).toBe(10);
    expect(list.spans.map((s: { name: string }) => s.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `execute n${i + 16}`),
    );
    const logs = (await client.trigger({ function_id: 'engine::logs::list', payload: {} })) as any;
    expect(logs.logs.map((l: { body: string }) => l.body)).toEqual(['log 5', 'log 4', 'log 3']);
    otel.close();
  });
});

test('retention drops spans and logs older than the age limits', async () => {
  const config = defaultConfig();
  config.observability = parseConfig(
    'workers:\n  - name: iii-observability\n    config: { trace_storage: { retention_seconds: 1 }, logs_retention_seconds: 1, logs_console_output: false }\n',
  ).observability;
  await withEngine({ config }, async (engine, client) => {
    const otel = await openOtel(engine.url);
    otel.send(
      spansFrame('svc', [{ traceId: traceId(1), spanId: spanId(1), name: 'execute old', startMs: Date.now() }]),
    );
    otel.send(logsFrame('svc', [{ body: 'old', severityNumber: 9, severityText: 'INFO', timeMs: Date.now() }]));
    await waitFor(async () => (await health(client)).spans.details.stored_spans === 1);
    await sleep(1600);
    otel.send(
      spansFrame('svc', [{ traceId: traceId(2), spanId: spanId(2), name: 'execute new', startMs: Date.now() }]),
    );
    const list = await waitFor(async () => {
      const r = (await client.trigger({ function_id: 'engine::traces::list', payload: {} })) as any;
      return r.total === 1 && r.spans[0].name === 'execute new' ? r : undefined;
    });
    expect(list.total).toBe(1);
    expect(((await client.trigger({ function_id: 'engine::logs::list', payload: {} })) as any).total).toBe(0);
    otel.close();
  });
});

test('exporter: otlp keeps no spans; the trace functions fail like the real engine', async () => {
  const config = defaultConfig();
  config.observability = parseConfig(
    'workers:\n  - name: iii-observability\n    config: { exporter: otlp }\n',
  ).observability;
  await withEngine({ config }, async (_engine, client) => {
    await expect(client.trigger({ function_id: 'engine::traces::list', payload: {} })).rejects.toMatchObject({
      code: 'memory_exporter_not_enabled',
    });
  });
});

test('spans survive an engine restart on the same data directory', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dev-engine-otel-'));
  try {
    const first = await startTestEngine({ memory: false, dataDir });
    const otel = await openOtel(first.url);
    otel.send(
      spansFrame('svc', [{ traceId: traceId(9), spanId: spanId(9), name: 'execute kept', startMs: Date.now() }]),
    );
    const c1 = connectWorker(first.url, 'c1');
    await waitFor(
      async () => ((await c1.trigger({ function_id: 'engine::traces::list', payload: {} })) as any).total === 1,
    );
    otel.close();
    await c1.shutdown();
    await first.close();
    await withEngine({ memory: false, dataDir }, async (_engine, client) => {
      const list = (await client.trigger({ function_id: 'engine::traces::list', payload: {} })) as any;
      expect(list.spans.map((s: { name: string }) => s.name)).toEqual(['execute kept']);
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
