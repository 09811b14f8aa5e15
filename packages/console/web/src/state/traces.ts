import { signal } from '@preact/signals';
import type { CallOutput } from '../lib/api';
import { CallError, rpc } from '../lib/rpc';

export type Span = CallOutput<'engine::traces::list'>['spans'][number] & { children?: Span[] };
export type Group = CallOutput<'engine::traces::group_by'>['groups'][number];
export type LogRecord = CallOutput<'engine::logs::list'>['logs'][number];

export const SESSION_ATTRIBUTE = 'iii.session.id';

export const groups = signal<Group[]>([]);
export const groupsError = signal<string | null>(null);
/** Root spans of the traces in the chosen group, newest first. */
export const traceRoots = signal<Span[]>([]);
export const tree = signal<Span[] | null>(null);
export const treeError = signal<string | null>(null);
export const logs = signal<{ span_id: string; records: LogRecord[]; error?: string } | null>(null);

const message = (error: unknown) => (error instanceof CallError ? error.message : String(error));

export async function loadGroups(): Promise<void> {
  try {
    const out = await rpc.call('engine::traces::group_by', { attribute: SESSION_ATTRIBUTE, limit: 200 });
    groups.value = [...out.groups].sort((a, b) => (b.last_seen_ms ?? 0) - (a.last_seen_ms ?? 0));
    groupsError.value = null;
  } catch (error) {
    groupsError.value = message(error);
  }
}

export async function loadTraceRoots(traceIds: string[]): Promise<void> {
  if (traceIds.length === 0) {
    traceRoots.value = [];
    return;
  }
  try {
    const out = await rpc.call('engine::traces::list', { trace_ids: traceIds.slice(0, 500), limit: 500 });
    const roots = out.spans.filter((s) => !s.parent_span_id);
    traceRoots.value = roots.sort((a, b) => nanosToMs(b.start_time_unix_nano) - nanosToMs(a.start_time_unix_nano));
  } catch (error) {
    groupsError.value = message(error);
  }
}

export async function loadTree(traceId: string): Promise<void> {
  try {
    const out = await rpc.call('engine::traces::tree', { trace_id: traceId });
    tree.value = out.roots as Span[];
    treeError.value = null;
  } catch (error) {
    tree.value = null;
    treeError.value = message(error);
  }
}

export async function loadLogs(traceId: string, spanId: string): Promise<void> {
  logs.value = { span_id: spanId, records: [] };
  try {
    const out = await rpc.call('engine::logs::list', { trace_id: traceId, span_id: spanId, limit: 200 });
    logs.value = { span_id: spanId, records: out.logs };
  } catch (error) {
    logs.value = { span_id: spanId, records: [], error: message(error) };
  }
}

/** The trace of a turn: a span of the session's traces that carries the turn id in an attribute. */
export async function findTurnTrace(sessionId: string, turnId: string): Promise<string | undefined> {
  const out = await rpc.call('engine::traces::list', {
    attributes: [[SESSION_ATTRIBUTE, sessionId]],
    search_all_spans: true,
    limit: 1000,
  });
  return out.spans.find((s) => attributeEntries(s.attributes).some(([, v]) => v === turnId))?.trace_id;
}

export const nanosToMs = (value: number | string | undefined) => (value === undefined ? 0 : Number(value) / 1e6);

export function attributeEntries(attributes: unknown): Array<[string, unknown]> {
  if (Array.isArray(attributes))
    return attributes.filter((a): a is [string, unknown] => Array.isArray(a) && typeof a[0] === 'string');
  if (attributes && typeof attributes === 'object') return Object.entries(attributes);
  return [];
}

export function isError(span: Span): boolean {
  const status = span.status as unknown;
  if (typeof status === 'string') return status.toLowerCase() === 'error';
  if (status && typeof status === 'object') {
    const code =
      (status as { code?: unknown; status_code?: unknown }).code ?? (status as { status_code?: unknown }).status_code;
    return code === 2 || String(code).toLowerCase() === 'error';
  }
  return false;
}

/** The tree as rows with their depth, depth-first in start order. */
export function flatten(roots: Span[]): Array<{ span: Span; depth: number }> {
  const rows: Array<{ span: Span; depth: number }> = [];
  const walk = (spans: Span[], depth: number) => {
    for (const span of [...spans].sort(
      (a, b) => nanosToMs(a.start_time_unix_nano) - nanosToMs(b.start_time_unix_nano),
    )) {
      rows.push({ span, depth });
      walk(span.children ?? [], depth + 1);
    }
  };
  walk(roots, 0);
  return rows;
}
