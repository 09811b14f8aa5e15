import { signal } from '@preact/signals';
import type { CallOutput } from '../lib/api';
import { CallError, rpc } from '../lib/rpc';

/** A span as the engine contract hands it over: times in ns as numbers, attributes as `[key, text]` pairs. */
export type Span = CallOutput<'engine::traces::tree'>['roots'][number];
export type RootSpan = CallOutput<'engine::traces::list'>['spans'][number];
export type Group = CallOutput<'engine::traces::group_by'>['groups'][number];
export type LogRecord = CallOutput<'engine::logs::list'>['logs'][number];

/**
 * Span attributes that name a session: `iii.session.id` (the iii convention the engine's console
 * groups by) and `session_id` (the baggage key the harness's workers carry today; the SDK copies
 * baggage onto every span). Groups from both are merged.
 */
export const SESSION_ATTRIBUTES = ['iii.session.id', 'session_id'] as const;

export const groups = signal<Group[]>([]);
export const groupsError = signal<string | null>(null);
/** Root spans of the traces in the chosen group, newest first. */
export const traceRoots = signal<RootSpan[]>([]);
export const tree = signal<Span[] | null>(null);
/** Only traces of turn activity (sends, steps, decisions, compactions), not every read of a session. */
export const turnsOnly = signal(true);
const TURN_ROOT = /(harness::send|run::|turn::|approval::resolve|compaction::)/;
export const isTurnActivity = (root: RootSpan) => TURN_ROOT.test(root.name);
export const treeError = signal<string | null>(null);
export const logs = signal<{ span_id: string; records: LogRecord[]; error?: string } | null>(null);

const message = (error: unknown) => (error instanceof CallError ? error.message : String(error));

export async function loadGroups(): Promise<void> {
  try {
    const answers = await Promise.all(
      SESSION_ATTRIBUTES.map((attribute) => rpc.call('engine::traces::group_by', { attribute, limit: 200 })),
    );
    const merged = new Map<string, Group>();
    for (const group of answers.flatMap((a) => a.groups)) {
      const known = merged.get(group.value);
      merged.set(
        group.value,
        known
          ? {
              ...known,
              trace_ids: [...new Set([...known.trace_ids, ...group.trace_ids])],
              last_seen_ms: Math.max(known.last_seen_ms, group.last_seen_ms),
              error_count: known.error_count + group.error_count,
            }
          : group,
      );
    }
    groups.value = [...merged.values()].sort((a, b) => b.last_seen_ms - a.last_seen_ms);
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
    tree.value = out.roots;
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

/** Span attributes that name a turn (the baggage key the workers carry, and an iii-style one). */
const TURN_ATTRIBUTES = ['iii.turn.id', 'turn_id'] as const;

/** The trace of a turn: the traces grouped by the turn attribute, the group of this turn. */
export async function findTurnTrace(turnId: string): Promise<string | undefined> {
  for (const attribute of TURN_ATTRIBUTES) {
    const { groups: found } = await rpc.call('engine::traces::group_by', { attribute, limit: 1000 });
    const group = found.find((g) => g.value === turnId);
    if (group?.trace_ids[0]) return group.trace_ids[0];
  }
  return undefined;
}

export const nanosToMs = (value: number | undefined) => (value === undefined ? 0 : value / 1e6);

/** The contract lower-cases the status: `unset`, `ok` or `error`. */
export const isError = (span: RootSpan) => span.status === 'error';

/**
 * The SDK wraps each handler's span in one named `execute <function>` around it, with the same
 * timing: one row says it. The wrapper's row is dropped and its child takes its place.
 */
function unwrap(span: Span): Span {
  const only = span.children.length === 1 ? span.children[0]! : undefined;
  return only && span.name === `execute ${only.name}` ? only : span;
}

/** The tree as rows with their depth, depth-first in start order. */
export function flatten(roots: Span[]): Array<{ span: Span; depth: number }> {
  const rows: Array<{ span: Span; depth: number }> = [];
  const walk = (spans: Span[], depth: number) => {
    const sorted = spans
      .map(unwrap)
      .sort((a, b) => nanosToMs(a.start_time_unix_nano) - nanosToMs(b.start_time_unix_nano));
    for (const span of sorted) {
      rows.push({ span, depth });
      walk(span.children, depth + 1);
    }
  };
  walk(roots, 0);
  return rows;
}
