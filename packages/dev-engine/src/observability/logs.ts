/**
 * `engine::logs::{list,clear}` with the real engine's inputs and results: newest first,
 * `{logs, total, query, timestamp}`; `severity_text` matches case-insensitively, times are ms.
 */
import { objectInput, optionalInteger, optionalString } from '../builtins/input.js';
import { optionalCount } from './input.js';
import type { TelemetryStore } from './store.js';

const LIST = 'engine::logs::list';

export function listLogs(store: TelemetryStore, data: unknown): unknown {
  const input = objectInput(LIST, data);
  const query = {
    trace_id: optionalString(LIST, input, 'trace_id') ?? null,
    span_id: optionalString(LIST, input, 'span_id') ?? null,
    severity_min: optionalInteger(LIST, input, 'severity_min') ?? null,
    severity_text: optionalString(LIST, input, 'severity_text') ?? null,
    start_time: optionalCount(LIST, input, 'start_time') ?? null,
    end_time: optionalCount(LIST, input, 'end_time') ?? null,
    offset: optionalCount(LIST, input, 'offset') ?? null,
    limit: optionalCount(LIST, input, 'limit') ?? null,
  };
  const { total, logs } = store.queryLogs(
    {
      trace_id: query.trace_id ?? undefined,
      span_id: query.span_id ?? undefined,
      severity_min: query.severity_min ?? undefined,
      severity_text: query.severity_text ?? undefined,
      start_ns: query.start_time === null ? undefined : query.start_time * 1_000_000,
      end_ns: query.end_time === null ? undefined : query.end_time * 1_000_000,
    },
    query.offset ?? 0,
    query.limit ?? undefined,
  );
  return { logs, total, query, timestamp: Date.now() };
}
