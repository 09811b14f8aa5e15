/**
 * `iii-observability`, the part the dev engine implements: telemetry ingestion from the SDK
 * (spans and logs stored in SQLite, metrics counted), `engine::traces::*`, `engine::logs::*`,
 * `engine::health::check`, the `trace` and `log` trigger types, and `engine::log::*` storing
 * what it logs. Configured by the real engine's `iii-observability` keys (see config.ts).
 */

import { installLog } from '../builtins/log.js';
import type { EngineApi } from '../engine-api.js';
import { EngineError } from '../engine-api.js';
import { type IngestCounters, TelemetryIngest } from './ingest.js';
import { listLogs } from './logs.js';
import type { StoredLog, StoredSpan } from './otlp.js';
import { TelemetryStore } from './store.js';
import { groupTraces, listTraces, traceTree } from './traces.js';
import { LogTrigger, TraceTrigger } from './triggers.js';

export interface ObservabilityConfig {
  /** Ingestion on/off (default true). */
  enabled: boolean;
  /** `memory` / `both` keep spans queryable; `otlp` alone keeps none (OTLP export is not implemented). */
  exporter: 'memory' | 'otlp' | 'both';
  /** Newest spans kept (`memory_max_spans`). */
  memory_max_spans: number;
  /** Spans older than this are dropped (`trace_storage.retention_seconds`; 0 = never). */
  span_retention_seconds: number;
  logs_enabled: boolean;
  logs_max_count: number;
  logs_retention_seconds: number;
  /** Echo ingested logs into the engine's own log (`logs_console_output`). */
  logs_console_output: boolean;
}

export const DEFAULT_OBSERVABILITY: ObservabilityConfig = {
  enabled: true,
  exporter: 'memory',
  memory_max_spans: 10_000,
  span_retention_seconds: 86_400,
  logs_enabled: true,
  logs_max_count: 1000,
  logs_retention_seconds: 3600,
  logs_console_output: true,
};

export interface Observability {
  /** A telemetry frame (prefix included). */
  ingest(frame: Buffer): void;
  readonly counters: IngestCounters;
  readonly store: TelemetryStore | undefined;
}

const MEMORY_EXPORTER_NOT_ENABLED = () =>
  new EngineError(
    'memory_exporter_not_enabled',
    'In-memory span storage is not available. Set exporter: memory or both in config.',
  );

const SEVERITY_LEVEL: Array<[number, 'error' | 'warn' | 'info' | 'debug' | 'trace']> = [
  [17, 'error'],
  [13, 'warn'],
  [9, 'info'],
  [5, 'debug'],
  [0, 'trace'],
];

export function installObservability(
  api: EngineApi,
  config: ObservabilityConfig,
  limits: { maxJsonDepth: number; maxFrameBytes: number },
): Observability {
  const spansKept = config.exporter !== 'otlp';
  const store = new TelemetryStore(api.db, {
    maxSpans: config.memory_max_spans,
    spanMaxAgeMs: config.span_retention_seconds * 1000,
    maxLogs: config.logs_max_count,
    logMaxAgeMs: config.logs_retention_seconds * 1000,
  });
  api.onClose(() => store.flush());
  const traceTrigger = new TraceTrigger(api);
  const logTrigger = new LogTrigger(api);

  const echo = (log: StoredLog) => {
    const level = SEVERITY_LEVEL.find(([n]) => log.severity_number >= n)?.[1] ?? 'info';
    api.logger[level](
      { source: 'telemetry', service_name: log.service_name, trace_id: log.trace_id, span_id: log.span_id },
      log.body,
    );
  };
  /** `echo`: also write them to the engine's log (engine::log::* already did). */
  const storeLogs = (logs: StoredLog[], echoToEngineLog = config.logs_console_output) => {
    if (!config.logs_enabled) return;
    store.addLogs(logs);
    if (echoToEngineLog) for (const log of logs) echo(log);
    logTrigger.observe(logs);
  };
  const ingest = new TelemetryIngest(
    {
      spans: (spans: StoredSpan[]) => {
        if (!spansKept) return;
        store.addSpans(spans);
        traceTrigger.observe(spans);
      },
      logs: (logs) => storeLogs(logs),
    },
    { ...limits, maxRecordsPerFrame: Math.max(config.memory_max_spans, config.logs_max_count) },
    api.logger,
  );

  const spanStore = () => {
    if (!spansKept) throw MEMORY_EXPORTER_NOT_ENABLED();
    return store;
  };
  const fn = (id: string, description: string, handler: (data: unknown) => unknown) =>
    api.registerFunction({ id, description, worker: 'iii-observability', handler });
  fn('engine::traces::list', 'List stored traces (only available when exporter is memory or both)', (d) =>
    listTraces(spanStore(), d),
  );
  fn('engine::traces::tree', 'Get trace tree with nested children', (d) => traceTree(spanStore(), d));
  fn('engine::traces::group_by', 'Aggregate stored spans by one attribute into groups', (d) =>
    groupTraces(spanStore(), d),
  );
  fn('engine::traces::clear', 'Clear all stored traces', () => {
    spanStore().clearSpans();
    return { success: true };
  });
  fn('engine::logs::list', 'List stored OTEL logs', (d) => listLogs(store, d));
  fn('engine::logs::clear', 'Clear all stored OTEL logs', () => {
    store.clearLogs();
    return { success: true };
  });
  fn('engine::health::check', 'Check system health status', () => health(config, store, ingest.counters, spansKept));
  installLog(api, (log) => storeLogs([log], false));

  return {
    ingest: (frame) => {
      if (config.enabled) ingest.ingest(frame);
    },
    counters: ingest.counters,
    store: spansKept ? store : undefined,
  };
}

function health(config: ObservabilityConfig, store: TelemetryStore, counters: IngestCounters, spansKept: boolean) {
  const healthy = (details: unknown) => ({ status: 'healthy', details });
  const disabled = { status: 'disabled', details: null };
  return {
    status: 'healthy',
    components: {
      otel: config.enabled ? healthy({ enabled: true, exporter: config.exporter, ingestion: counters }) : disabled,
      metrics: disabled,
      logs: config.logs_enabled ? healthy({ stored_logs: store.logCount() }) : disabled,
      spans: spansKept ? healthy({ stored_spans: store.spanCount() }) : disabled,
    },
    timestamp: Date.now(),
    version: '0.22.1',
  };
}
