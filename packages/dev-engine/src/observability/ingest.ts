/**
 * Telemetry frames: a 4-byte prefix (`OTLP` spans, `LOGS` logs, `MTRC` metrics) and OTLP JSON,
 * from the SDK's `/otel` socket or as binary frames on a worker socket. A frame is taken whole or
 * not at all: one too large to parse cheaply, not JSON, nested too deep, not OTLP-shaped, or
 * holding more records than the store keeps is dropped and counted (`engine::health::check`
 * shows the counters). Parsing is synchronous and bounded by the size limit, so a bad frame
 * costs its sender nothing more than a log line and never reaches another connection.
 */
import type { Logger } from 'pino';
import { exceedsDepth } from '../security/json-depth.js';
import { logsFromOtlp, metricPointCount, OtlpError, type StoredLog, type StoredSpan, spansFromOtlp } from './otlp.js';

export interface IngestLimits {
  /** Largest telemetry frame parsed (bytes); the SDK's batches are far below it. */
  maxFrameBytes: number;
  maxJsonDepth: number;
  /** Most spans or logs taken from one frame (a batch above it is dropped whole). */
  maxRecordsPerFrame: number;
}

export interface IngestCounters {
  frames: number;
  spans: number;
  logs: number;
  metric_points: number;
  dropped_frames: number;
  dropped_by_reason: Record<string, number>;
}

export interface IngestSink {
  spans(spans: StoredSpan[]): void;
  logs(logs: StoredLog[]): void;
}

const PREFIXES = new Set(['OTLP', 'LOGS', 'MTRC']);

export class TelemetryIngest {
  readonly counters: IngestCounters = {
    frames: 0,
    spans: 0,
    logs: 0,
    metric_points: 0,
    dropped_frames: 0,
    dropped_by_reason: {},
  };
  private lastWarnMs = 0;

  constructor(
    private readonly sink: IngestSink,
    private readonly limits: IngestLimits,
    private readonly logger: Logger,
  ) {}

  /** Take one frame (prefix included). */
  ingest(buf: Buffer): void {
    this.counters.frames++;
    const problem = this.take(buf);
    if (problem !== undefined) this.drop(problem);
  }

  /** Stores the frame's records; returns why it was dropped instead, if it was. */
  private take(buf: Buffer): string | undefined {
    const prefix = buf.toString('latin1', 0, 4);
    if (!PREFIXES.has(prefix)) return 'unknown prefix';
    if (buf.length > this.limits.maxFrameBytes) return 'frame too large';
    let request: unknown;
    try {
      request = JSON.parse(buf.toString('utf8', 4));
    } catch {
      return 'invalid JSON';
    }
    if (exceedsDepth(request, this.limits.maxJsonDepth)) return 'JSON nested too deep';
    try {
      if (prefix === 'OTLP') return this.takeSpans(spansFromOtlp(request));
      if (prefix === 'LOGS') return this.takeLogs(logsFromOtlp(request));
      this.counters.metric_points += metricPointCount(request);
      return undefined;
    } catch (error) {
      if (error instanceof OtlpError) return `not OTLP: ${error.message}`;
      throw error;
    }
  }

  private takeSpans(spans: StoredSpan[]): string | undefined {
    if (spans.length > this.limits.maxRecordsPerFrame) return 'batch too large';
    this.counters.spans += spans.length;
    if (spans.length > 0) this.sink.spans(spans);
    return undefined;
  }

  private takeLogs(logs: StoredLog[]): string | undefined {
    if (logs.length > this.limits.maxRecordsPerFrame) return 'batch too large';
    this.counters.logs += logs.length;
    if (logs.length > 0) this.sink.logs(logs);
    return undefined;
  }

  /** Count the drop; warn at most once a second so a flood of garbage cannot flood the log. */
  private drop(reason: string): void {
    const key = reason.startsWith('not OTLP') ? 'not OTLP' : reason;
    this.counters.dropped_frames++;
    this.counters.dropped_by_reason[key] = (this.counters.dropped_by_reason[key] ?? 0) + 1;
    const now = Date.now();
    if (now - this.lastWarnMs < 1000) return;
    this.lastWarnMs = now;
    this.logger.warn({ reason, dropped_frames: this.counters.dropped_frames }, 'dropping a telemetry frame');
  }
}
