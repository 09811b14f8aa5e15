/**
 * `engine::traces::{list,tree,group_by,clear}` over the span store, with the real engine's
 * inputs and result shapes (observability worker, `TracesListInput` & co.):
 * - list: root spans (no parent) matching the filters -> `{spans, total, offset, limit}`;
 *   engine-internal roots hidden unless `include_internal`; `search_all_spans` matches `name`
 *   against any span of the trace.
 * - tree: every span of a trace nested under its parent -> `{roots}`; a span whose parent was
 *   never stored is a root too.
 * - group_by: spans carrying an attribute, grouped by its value -> `{groups}`, newest first.
 */
import {
  objectInput,
  optionalBoolean,
  optionalString,
  optionalStringArray,
  requiredString,
} from '../builtins/input.js';
import { optionalCount, optionalNumber, optionalPairs } from './input.js';
import type { StoredSpan } from './otlp.js';
import { isInternalSpan, type TelemetryStore } from './store.js';

const LIST = 'engine::traces::list';
const TREE = 'engine::traces::tree';
const GROUP_BY = 'engine::traces::group_by';
const NS_PER_MS = 1_000_000;

interface ListQuery {
  trace_id?: string;
  trace_ids?: string[];
  offset: number;
  limit: number;
  service_name?: string;
  name?: string;
  status?: string;
  min_duration_ms?: number;
  max_duration_ms?: number;
  start_time?: number;
  end_time?: number;
  sort_by: string;
  ascending: boolean;
  attributes?: Array<[string, string]>;
  exclude_attributes?: Array<[string, string]>;
  include_internal: boolean;
  search_all_spans: boolean;
}

function listQuery(data: unknown): ListQuery {
  const input = objectInput(LIST, data);
  return {
    trace_id: optionalString(LIST, input, 'trace_id'),
    trace_ids: optionalStringArray(LIST, input, 'trace_ids'),
    offset: optionalCount(LIST, input, 'offset') ?? 0,
    limit: optionalCount(LIST, input, 'limit') ?? 100,
    service_name: optionalString(LIST, input, 'service_name')?.toLowerCase(),
    name: optionalString(LIST, input, 'name')?.toLowerCase(),
    status: optionalString(LIST, input, 'status')?.toLowerCase(),
    min_duration_ms: optionalNumber(LIST, input, 'min_duration_ms'),
    max_duration_ms: optionalNumber(LIST, input, 'max_duration_ms'),
    start_time: optionalCount(LIST, input, 'start_time'),
    end_time: optionalCount(LIST, input, 'end_time'),
    sort_by: optionalString(LIST, input, 'sort_by') ?? 'start_time',
    ascending: (optionalString(LIST, input, 'sort_order') ?? 'asc').toLowerCase() === 'asc',
    attributes: optionalPairs(LIST, input, 'attributes'),
    exclude_attributes: optionalPairs(LIST, input, 'exclude_attributes'),
    include_internal: optionalBoolean(LIST, input, 'include_internal') ?? false,
    search_all_spans: optionalBoolean(LIST, input, 'search_all_spans') ?? false,
  };
}

const durationMs = (s: StoredSpan) => Math.max(0, s.end_time_unix_nano - s.start_time_unix_nano) / NS_PER_MS;
const hasAttr = (s: StoredSpan, [k, v]: [string, string]) => s.attributes.some(([ak, av]) => ak === k && av === v);

function matches(s: StoredSpan, q: ListQuery, traceNameMatch: Set<string> | undefined): boolean {
  if (q.service_name !== undefined && !s.service_name.toLowerCase().includes(q.service_name)) return false;
  if (q.name !== undefined) {
    if (traceNameMatch) {
      if (!traceNameMatch.has(s.trace_id)) return false;
    } else if (!s.name.toLowerCase().includes(q.name)) return false;
  }
  if (q.status !== undefined && !s.status.toLowerCase().includes(q.status)) return false;
  const d = durationMs(s);
  if (q.min_duration_ms !== undefined && d < q.min_duration_ms) return false;
  if (q.max_duration_ms !== undefined && d > q.max_duration_ms) return false;
  if (q.start_time !== undefined && s.end_time_unix_nano < q.start_time * NS_PER_MS) return false;
  if (q.end_time !== undefined && s.start_time_unix_nano > q.end_time * NS_PER_MS) return false;
  if (q.attributes?.some((pair) => !hasAttr(s, pair))) return false;
  if (q.exclude_attributes?.some((pair) => hasAttr(s, pair))) return false;
  return true;
}

function compare(a: StoredSpan, b: StoredSpan, sortBy: string): number {
  switch (sortBy) {
    case 'duration':
    case 'duration_ms':
      return durationMs(a) - durationMs(b);
    case 'name':
      return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
    case 'service_name':
      return a.service_name < b.service_name ? -1 : a.service_name > b.service_name ? 1 : 0;
    default:
      return a.start_time_unix_nano - b.start_time_unix_nano;
  }
}

export function listTraces(store: TelemetryStore, data: unknown): unknown {
  const q = listQuery(data);
  const traceIds = q.trace_id !== undefined ? [q.trace_id] : q.trace_ids;
  const traceNameMatch =
    q.search_all_spans && q.name !== undefined ? new Set(store.traceIdsWithSpanName(q.name)) : undefined;
  const roots = store
    .rootSpans(traceIds)
    .filter((s) => (q.include_internal || !isInternalSpan(s)) && matches(s, q, traceNameMatch));
  roots.sort((a, b) => (q.ascending ? 1 : -1) * compare(a, b, q.sort_by));
  return { spans: roots.slice(q.offset, q.offset + q.limit), total: roots.length, offset: q.offset, limit: q.limit };
}

type TreeNode = StoredSpan & { children: TreeNode[] };

export function traceTree(store: TelemetryStore, data: unknown): unknown {
  const traceId = requiredString(TREE, objectInput(TREE, data), 'trace_id');
  const spans = store.spansOfTraces([traceId]).sort((a, b) => a.start_time_unix_nano - b.start_time_unix_nano);
  const nodes = new Map<string, TreeNode>();
  for (const s of spans) nodes.set(s.span_id, { ...s, children: [] });
  const roots: TreeNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parent_span_id === null ? undefined : nodes.get(node.parent_span_id);
    if (parent && parent !== node) parent.children.push(node);
    else roots.push(node);
  }
  return { roots };
}

export function groupTraces(store: TelemetryStore, data: unknown): unknown {
  const input = objectInput(GROUP_BY, data);
  const attribute = requiredString(GROUP_BY, input, 'attribute');
  const sinceNs = (optionalCount(GROUP_BY, input, 'since_ms') ?? 0) * NS_PER_MS;
  const limit = optionalCount(GROUP_BY, input, 'limit') ?? 100;
  const includeInternal = optionalBoolean(GROUP_BY, input, 'include_internal') ?? false;
  const labelAttribute = optionalString(GROUP_BY, input, 'label_attribute');
  const labels =
    labelAttribute === undefined
      ? undefined
      : store.labelsByAttribute(attribute, labelAttribute, includeInternal, sinceNs);
  const groups = store.groupByAttribute(attribute, includeInternal, sinceNs).map((g) => {
    const first = Math.floor(g.first_ns / NS_PER_MS);
    const last = Math.floor(g.last_ns / NS_PER_MS);
    return {
      value: g.value,
      label: labels?.get(g.value) ?? null,
      trace_ids: g.trace_ids.split(',').sort(),
      span_count: g.span_count,
      first_seen_ms: first,
      last_seen_ms: last,
      duration_ms: Math.max(0, last - first),
      error_count: g.error_count,
    };
  });
  groups.sort((a, b) => b.first_seen_ms - a.first_seen_ms);
  return { groups: groups.slice(0, limit) };
}
