/**
 * OTLP JSON, as iii-sdk 0.22.1 sends it after its 4-byte prefix (`OTLP` spans, `LOGS` logs,
 * `MTRC` metrics; @opentelemetry/otlp-transformer's JSON serializers): camelCase keys, hex ids,
 * nanosecond times as decimal strings, attribute values as `{stringValue|intValue|doubleValue|
 * boolValue|arrayValue|kvlistValue}`. Converted to the real engine's stored shapes
 * (`StoredSpan`, `StoredLog`): attributes of spans become `[key, string]` pairs, of logs a map of
 * JSON values; the service name comes from the resource's `service.name` (`unknown` without).
 *
 * A batch that does not have the shape is rejected as a whole (`OtlpError`); nothing of it is
 * stored.
 */

export class OtlpError extends Error {}

export interface StoredSpanEvent {
  name: string;
  timestamp_unix_nano: number;
  attributes: Array<[string, string]>;
}

export interface StoredSpanLink {
  trace_id: string;
  span_id: string;
  trace_state: string | null;
  attributes: Array<[string, string]>;
}

export interface StoredSpan {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  start_time_unix_nano: number;
  end_time_unix_nano: number;
  status: 'unset' | 'ok' | 'error';
  status_description?: string;
  attributes: Array<[string, string]>;
  service_name: string;
  events: StoredSpanEvent[];
  links: StoredSpanLink[];
  instrumentation_scope_name?: string;
  instrumentation_scope_version?: string;
  flags?: number;
}

export interface StoredLog {
  timestamp_unix_nano: number;
  observed_timestamp_unix_nano: number;
  severity_number: number;
  severity_text: string;
  body: string;
  attributes: Record<string, unknown>;
  trace_id: string | null;
  span_id: string | null;
  resource: Record<string, string>;
  service_name: string;
  instrumentation_scope_name?: string;
  instrumentation_scope_version?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function list(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpError(`${what} must be an array`);
  return value;
}

function obj(value: unknown, what: string): Obj {
  if (!isObj(value)) throw new OtlpError(`${what} must be an object`);
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new OtlpError(`${what} must be a string`);
  return value;
}

const HEX_ID = /^[0-9a-fA-F]{1,64}$/;

/** Trace and span ids are hex strings in OTLP JSON. */
function hexString(value: unknown, what: string): string {
  if (typeof value !== 'string' || !HEX_ID.test(value)) throw new OtlpError(`${what} must be a hex id`);
  return value;
}

/** A uint64 sent as a decimal string or a number (JS numbers lose sub-microsecond digits). */
function nanos(value: unknown, what: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return Number(value);
  throw new OtlpError(`${what} must be a non-negative integer`);
}

/** An OTLP AnyValue as JSON (arrays and kvlists recursively). */
export function anyValue(value: unknown): unknown {
  if (!isObj(value)) return null;
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return typeof value.intValue === 'string' ? Number(value.intValue) : value.intValue;
  if ('doubleValue' in value) return value.doubleValue;
  if ('arrayValue' in value) return list(obj(value.arrayValue, 'arrayValue').values, 'arrayValue.values').map(anyValue);
  if ('kvlistValue' in value) return keyValues(obj(value.kvlistValue, 'kvlistValue').values);
  if ('bytesValue' in value) return value.bytesValue;
  return null;
}

/** The real engine's rendering of an attribute value as text: scalars as themselves, the rest as JSON. */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function keyValues(values: unknown): Obj {
  const out: Obj = {};
  for (const kv of list(values, 'attributes')) {
    const entry = obj(kv, 'attribute');
    out[str(entry.key, 'attribute key')] = anyValue(entry.value);
  }
  return out;
}

function attributePairs(values: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const kv of list(values, 'attributes')) {
    const entry = obj(kv, 'attribute');
    if (entry.value === undefined || entry.value === null) continue;
    out.push([str(entry.key, 'attribute key'), asText(anyValue(entry.value))]);
  }
  return out;
}

function resourceOf(resource: unknown): { serviceName: string; attributes: Record<string, string> } {
  const attributes: Record<string, string> = {};
  if (isObj(resource)) for (const [k, v] of attributePairs(resource.attributes)) attributes[k] = v;
  return { serviceName: attributes['service.name'] ?? 'unknown', attributes };
}

function scopeOf(scope: unknown): { name?: string; version?: string } {
  if (!isObj(scope)) return {};
  return {
    ...(typeof scope.name === 'string' && scope.name !== '' && { name: scope.name }),
    ...(typeof scope.version === 'string' && scope.version !== '' && { version: scope.version }),
  };
}

const ZERO_ID = /^0*$/;
const STATUS = ['unset', 'ok', 'error'] as const;

function spanOf(raw: unknown, serviceName: string, scope: { name?: string; version?: string }): StoredSpan {
  const s = obj(raw, 'span');
  const parent =
    typeof s.parentSpanId === 'string' && s.parentSpanId !== '' && !ZERO_ID.test(s.parentSpanId)
      ? hexString(s.parentSpanId, 'span.parentSpanId')
      : null;
  const status = isObj(s.status) ? s.status : {};
  const code = typeof status.code === 'number' ? status.code : 0;
  const span: StoredSpan = {
    trace_id: hexString(s.traceId, 'span.traceId'),
    span_id: hexString(s.spanId, 'span.spanId'),
    parent_span_id: parent,
    name: str(s.name, 'span.name'),
    start_time_unix_nano: nanos(s.startTimeUnixNano, 'span.startTimeUnixNano'),
    end_time_unix_nano: nanos(s.endTimeUnixNano, 'span.endTimeUnixNano'),
    status: STATUS[code] ?? 'unset',
    attributes: attributePairs(s.attributes),
    service_name: serviceName,
    events: list(s.events, 'span.events').map((e) => {
      const event = obj(e, 'event');
      return {
        name: typeof event.name === 'string' ? event.name : '',
        timestamp_unix_nano: nanos(event.timeUnixNano, 'event.timeUnixNano'),
        attributes: attributePairs(event.attributes),
      };
    }),
    links: list(s.links, 'span.links').map((l) => {
      const link = obj(l, 'link');
      return {
        trace_id: typeof link.traceId === 'string' ? link.traceId : '',
        span_id: typeof link.spanId === 'string' ? link.spanId : '',
        trace_state: typeof link.traceState === 'string' ? link.traceState : null,
        attributes: attributePairs(link.attributes),
      };
    }),
  };
  if (typeof status.message === 'string' && status.message !== '') span.status_description = status.message;
  if (scope.name) span.instrumentation_scope_name = scope.name;
  if (scope.version) span.instrumentation_scope_version = scope.version;
  if (typeof s.flags === 'number') span.flags = s.flags;
  return span;
}

/** `ExportTraceServiceRequest` JSON -> stored spans. */
export function spansFromOtlp(request: unknown): StoredSpan[] {
  const out: StoredSpan[] = [];
  for (const rs of list(obj(request, 'request').resourceSpans, 'resourceSpans')) {
    const resourceSpans = obj(rs, 'resourceSpans[]');
    const { serviceName } = resourceOf(resourceSpans.resource);
    for (const ss of list(resourceSpans.scopeSpans, 'scopeSpans')) {
      const scopeSpans = obj(ss, 'scopeSpans[]');
      const scope = scopeOf(scopeSpans.scope);
      for (const span of list(scopeSpans.spans, 'spans')) out.push(spanOf(span, serviceName, scope));
    }
  }
  return out;
}

function hexId(value: unknown): string | null {
  return typeof value === 'string' && value !== '' && !ZERO_ID.test(value) ? value : null;
}

/** `ExportLogsServiceRequest` JSON -> stored logs. */
export function logsFromOtlp(request: unknown): StoredLog[] {
  const out: StoredLog[] = [];
  for (const rl of list(obj(request, 'request').resourceLogs, 'resourceLogs')) {
    const resourceLogs = obj(rl, 'resourceLogs[]');
    const resource = resourceOf(resourceLogs.resource);
    for (const sl of list(resourceLogs.scopeLogs, 'scopeLogs')) {
      const scopeLogs = obj(sl, 'scopeLogs[]');
      const scope = scopeOf(scopeLogs.scope);
      for (const r of list(scopeLogs.logRecords, 'logRecords')) {
        const record = obj(r, 'logRecord');
        const log: StoredLog = {
          timestamp_unix_nano: nanos(record.timeUnixNano, 'logRecord.timeUnixNano'),
          observed_timestamp_unix_nano: nanos(record.observedTimeUnixNano, 'logRecord.observedTimeUnixNano'),
          severity_number: typeof record.severityNumber === 'number' ? record.severityNumber : 0,
          severity_text: typeof record.severityText === 'string' ? record.severityText : '',
          body: asText(record.body === undefined ? undefined : anyValue(record.body)),
          attributes: keyValues(record.attributes),
          trace_id: hexId(record.traceId),
          span_id: hexId(record.spanId),
          resource: resource.attributes,
          service_name: resource.serviceName,
        };
        if (scope.name) log.instrumentation_scope_name = scope.name;
        if (scope.version) log.instrumentation_scope_version = scope.version;
        out.push(log);
      }
    }
  }
  return out;
}

/** Metrics are accepted and counted; only their data-point count is read. */
export function metricPointCount(request: unknown): number {
  let points = 0;
  for (const rm of list(obj(request, 'request').resourceMetrics, 'resourceMetrics'))
    for (const sm of list(obj(rm, 'resourceMetrics[]').scopeMetrics, 'scopeMetrics'))
      for (const m of list(obj(sm, 'scopeMetrics[]').metrics, 'metrics')) {
        const metric = obj(m, 'metric');
        for (const kind of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'])
          if (isObj(metric[kind])) points += list((metric[kind] as Obj).dataPoints, 'dataPoints').length;
      }
  return points;
}
