/**
 * Spans and logs in the engine's SQLite database (`:memory:` with `--memory`). Ingestion only
 * appends to an in-memory batch; the batch is written in one transaction on the next turn of the
 * event loop (or once it holds FLUSH_ROWS rows), so a burst of telemetry costs one commit.
 * Queries flush first, so they always see everything ingested. Retention keeps the newest
 * `maxSpans` / `maxLogs` rows and drops rows older than the age limits (checked on flush, at most
 * every few seconds).
 *
 * Span attributes also go to `otel_span_attrs` (key, value) so that attribute filters and
 * `group_by` are index lookups instead of JSON scans.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { StoredLog, StoredSpan } from './otlp.js';

const FLUSH_ROWS = 2000;
const AGE_SWEEP_EVERY_MS = 5000;
/** Attribute values longer than this are kept in the span document but not indexed. */
const MAX_INDEXED_VALUE = 512;

export interface RetentionOptions {
  maxSpans: number;
  /** 0 = no age limit. */
  spanMaxAgeMs: number;
  maxLogs: number;
  logMaxAgeMs: number;
}

export interface AttributeGroupRow {
  value: string;
  span_count: number;
  first_ns: number;
  last_ns: number;
  error_count: number;
  /** Comma-separated distinct trace ids. */
  trace_ids: string;
}

export interface LogFilter {
  trace_id?: string;
  span_id?: string;
  severity_min?: number;
  severity_text?: string;
  start_ns?: number;
  end_ns?: number;
}

/** Engine-internal spans are hidden by default, as in the real engine's `traces::list`. */
export function isInternalSpan(span: StoredSpan): boolean {
  for (const [k, v] of span.attributes)
    if ((k === 'iii.function.kind' && v === 'internal') || (k === 'function_id' && v.startsWith('engine::')))
      return true;
  return false;
}

export class TelemetryStore {
  private spans: StoredSpan[] = [];
  private logs: StoredLog[] = [];
  private scheduled = false;
  private lastAgeSweepMs = 0;
  private readonly insertSpan: Statement<
    [string, string, string | null, string, string, string, number, number, number, number, string]
  >;
  private readonly insertAttr: Statement<[number | bigint, string, string]>;
  private readonly insertLog: Statement<[number, number, string, string | null, string | null, string, number, string]>;
  private readonly writeBatch: (spans: StoredSpan[], logs: StoredLog[]) => void;
  private readonly trimSpans: Statement<[number]>;
  private readonly trimLogs: Statement<[number]>;
  /** Newest sequence numbers written (0 before the first). */
  private lastSpanSeq = 0;
  private lastLogSeq = 0;
  private readonly expireSpans: Statement<[number]>;
  private readonly expireLogs: Statement<[number]>;
  private readonly dropOrphanAttrs: Statement<[]>;
  private readonly expireNow: (now: number) => void;
  /** How often the age limits are applied: every 5 s, or twice per retention period if shorter. */
  private readonly sweepEveryMs: number;

  constructor(
    readonly db: Database,
    private readonly retention: RetentionOptions,
  ) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS otel_spans (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT,
        name TEXT NOT NULL, service_name TEXT NOT NULL, status TEXT NOT NULL,
        start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, internal INTEGER NOT NULL,
        ingested_ms INTEGER NOT NULL, span TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS otel_spans_trace ON otel_spans (trace_id);
      CREATE INDEX IF NOT EXISTS otel_spans_roots ON otel_spans (start_ns) WHERE parent_span_id IS NULL;
      CREATE TABLE IF NOT EXISTS otel_span_attrs (
        span_seq INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS otel_span_attrs_kv ON otel_span_attrs (key, value);
      CREATE INDEX IF NOT EXISTS otel_span_attrs_seq ON otel_span_attrs (span_seq);
      CREATE TABLE IF NOT EXISTS otel_logs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        timestamp_ns INTEGER NOT NULL, severity_number INTEGER NOT NULL, severity_text TEXT NOT NULL,
        trace_id TEXT, span_id TEXT, service_name TEXT NOT NULL,
        ingested_ms INTEGER NOT NULL, log TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS otel_logs_time ON otel_logs (timestamp_ns);`);
    this.insertSpan = db.prepare(
      `INSERT INTO otel_spans (trace_id, span_id, parent_span_id, name, service_name, status,
         start_ns, end_ns, internal, ingested_ms, span) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertAttr = db.prepare('INSERT INTO otel_span_attrs (span_seq, key, value) VALUES (?, ?, ?)');
    this.insertLog = db.prepare(
      `INSERT INTO otel_logs (timestamp_ns, severity_number, severity_text, trace_id, span_id,
         service_name, ingested_ms, log) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Keep the newest N rows. Sequence numbers grow by one per insert and rows only ever go
    // oldest first, so the newest N are exactly those above (newest seq - N): a range delete.
    this.trimSpans = db.prepare('DELETE FROM otel_spans WHERE seq <= ?');
    this.trimLogs = db.prepare('DELETE FROM otel_logs WHERE seq <= ?');
    this.expireSpans = db.prepare('DELETE FROM otel_spans WHERE ingested_ms < ?');
    this.expireLogs = db.prepare('DELETE FROM otel_logs WHERE ingested_ms < ?');
    // Spans are only ever deleted oldest first, so every attribute row below the oldest kept span is an orphan.
    this.dropOrphanAttrs = db.prepare(
      'DELETE FROM otel_span_attrs WHERE span_seq < COALESCE((SELECT MIN(seq) FROM otel_spans), 9223372036854775807)',
    );
    this.sweepEveryMs = Math.min(
      AGE_SWEEP_EVERY_MS,
      ...[retention.spanMaxAgeMs, retention.logMaxAgeMs].filter((ms) => ms > 0).map((ms) => ms / 2),
    );
    this.expireNow = db.transaction((now: number) => this.applyRetention(now));
    this.writeBatch = db.transaction((spans: StoredSpan[], logs: StoredLog[]) => {
      const now = Date.now();
      for (const span of spans) {
        const { lastInsertRowid } = this.insertSpan.run(
          span.trace_id,
          span.span_id,
          span.parent_span_id,
          span.name,
          span.service_name,
          span.status,
          span.start_time_unix_nano,
          span.end_time_unix_nano,
          isInternalSpan(span) ? 1 : 0,
          now,
          JSON.stringify(span),
        );
        for (const [k, v] of span.attributes)
          if (v.length <= MAX_INDEXED_VALUE) this.insertAttr.run(lastInsertRowid, k, v);
        this.lastSpanSeq = Number(lastInsertRowid);
      }
      for (const log of logs)
        this.lastLogSeq = Number(
          this.insertLog.run(
            log.timestamp_unix_nano,
            log.severity_number,
            log.severity_text,
            log.trace_id,
            log.span_id,
            log.service_name,
            now,
            JSON.stringify(log),
          ).lastInsertRowid,
        );
      this.applyRetention(now);
    });
  }

  addSpans(spans: StoredSpan[]): void {
    for (const span of spans) this.spans.push(span);
    this.schedule();
  }

  addLogs(logs: StoredLog[]): void {
    for (const log of logs) this.logs.push(log);
    this.schedule();
  }

  /** Write what is pending now, and apply the age limits when due (queries call this first). */
  flush(): void {
    this.scheduled = false;
    if (this.spans.length === 0 && this.logs.length === 0) {
      const now = Date.now();
      if (now - this.lastAgeSweepMs >= this.sweepEveryMs) this.expireNow(now);
      return;
    }
    const spans = this.spans;
    const logs = this.logs;
    this.spans = [];
    this.logs = [];
    this.writeBatch(spans, logs);
  }

  clearSpans(): void {
    this.spans = [];
    this.db.exec('DELETE FROM otel_span_attrs; DELETE FROM otel_spans;');
  }

  clearLogs(): void {
    this.logs = [];
    this.db.exec('DELETE FROM otel_logs;');
  }

  spanCount(): number {
    this.flush();
    return (this.db.prepare('SELECT COUNT(*) AS n FROM otel_spans').get() as { n: number }).n;
  }

  logCount(): number {
    this.flush();
    return (this.db.prepare('SELECT COUNT(*) AS n FROM otel_logs').get() as { n: number }).n;
  }

  /** Root spans (no parent), of the given traces or of all. */
  rootSpans(traceIds?: string[]): StoredSpan[] {
    this.flush();
    if (traceIds === undefined)
      return this.parse(this.db.prepare('SELECT span FROM otel_spans WHERE parent_span_id IS NULL').all());
    return this.spansOfTraces(traceIds).filter((s) => s.parent_span_id === null);
  }

  spansOfTraces(traceIds: string[]): StoredSpan[] {
    this.flush();
    const stmt = this.db.prepare<[string], { span: string }>('SELECT span FROM otel_spans WHERE trace_id = ?');
    const out: StoredSpan[] = [];
    for (const id of new Set(traceIds)) for (const row of stmt.all(id)) out.push(JSON.parse(row.span));
    return out;
  }

  /** Traces with a span whose name contains `lowerSubstring` (case-insensitive). */
  traceIdsWithSpanName(lowerSubstring: string): string[] {
    this.flush();
    return this.db
      .prepare<[string], { trace_id: string }>(
        'SELECT DISTINCT trace_id FROM otel_spans WHERE instr(lower(name), ?) > 0',
      )
      .all(lowerSubstring)
      .map((r) => r.trace_id);
  }

  /**
   * Spans carrying `key`, aggregated per value of it (SQL does the counting: no span document
   * is parsed). `since_ns` keeps spans that ended at or after it.
   */
  groupByAttribute(key: string, includeInternal: boolean, sinceNs: number): AttributeGroupRow[] {
    this.flush();
    return this.db
      .prepare<[string, number, number], AttributeGroupRow>(
        `SELECT a.value AS value, COUNT(*) AS span_count, MIN(s.start_ns) AS first_ns, MAX(s.end_ns) AS last_ns,
           SUM(s.status = 'error') AS error_count, group_concat(DISTINCT s.trace_id) AS trace_ids
         FROM otel_span_attrs a JOIN otel_spans s ON s.seq = a.span_seq
         WHERE a.key = ? AND (? OR s.internal = 0) AND s.end_ns >= ?
         GROUP BY a.value`,
      )
      .all(key, includeInternal ? 1 : 0, sinceNs);
  }

  /** Per value of `key`, the `labelKey` value of its newest span carrying one. */
  labelsByAttribute(key: string, labelKey: string, includeInternal: boolean, sinceNs: number): Map<string, string> {
    this.flush();
    const rows = this.db
      .prepare<[string, string, number, number], { value: string; label: string }>(
        `SELECT a.value AS value, l.value AS label
         FROM otel_span_attrs a JOIN otel_spans s ON s.seq = a.span_seq
           JOIN otel_span_attrs l ON l.span_seq = a.span_seq AND l.key = ?
         WHERE a.key = ? AND (? OR s.internal = 0) AND s.end_ns >= ?
         ORDER BY s.start_ns, s.seq`,
      )
      .all(labelKey, key, includeInternal ? 1 : 0, sinceNs);
    return new Map(rows.map((r) => [r.value, r.label]));
  }

  /** Logs matching the filters, newest first, and how many matched in all. */
  queryLogs(filter: LogFilter, offset: number, limit: number | undefined): { total: number; logs: StoredLog[] } {
    this.flush();
    const where: string[] = [];
    const args: Array<string | number> = [];
    const add = (condition: string, arg: string | number | undefined) => {
      if (arg === undefined) return;
      where.push(condition);
      args.push(arg);
    };
    add('trace_id = ?', filter.trace_id);
    add('span_id = ?', filter.span_id);
    add('severity_number >= ?', filter.severity_min);
    add('lower(severity_text) = ?', filter.severity_text?.toLowerCase());
    add('timestamp_ns >= ?', filter.start_ns);
    add('timestamp_ns <= ?', filter.end_ns);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM otel_logs ${clause}`).get(...args) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT log FROM otel_logs ${clause} ORDER BY timestamp_ns DESC, seq DESC LIMIT ? OFFSET ?`)
      .all(...args, limit ?? -1, offset) as Array<{ log: string }>;
    return { total, logs: rows.map((r) => JSON.parse(r.log) as StoredLog) };
  }

  private parse(rows: unknown[]): StoredSpan[] {
    return (rows as Array<{ span: string }>).map((r) => JSON.parse(r.span) as StoredSpan);
  }

  private schedule(): void {
    if (this.spans.length + this.logs.length >= FLUSH_ROWS) {
      this.flush();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      if (this.scheduled) this.flush();
    });
  }

  /** Count limits on every write; age limits at most every `sweepEveryMs`. */
  private applyRetention(now: number): void {
    const { maxSpans, maxLogs, spanMaxAgeMs, logMaxAgeMs } = this.retention;
    const trimmed = this.lastSpanSeq > maxSpans ? this.trimSpans.run(this.lastSpanSeq - maxSpans).changes : 0;
    if (this.lastLogSeq > maxLogs) this.trimLogs.run(this.lastLogSeq - maxLogs);
    let expired = 0;
    if (now - this.lastAgeSweepMs >= this.sweepEveryMs) {
      this.lastAgeSweepMs = now;
      if (spanMaxAgeMs > 0) expired = this.expireSpans.run(now - spanMaxAgeMs).changes;
      if (logMaxAgeMs > 0) this.expireLogs.run(now - logMaxAgeMs);
    }
    if (trimmed + expired > 0) this.dropOrphanAttrs.run();
  }
}
