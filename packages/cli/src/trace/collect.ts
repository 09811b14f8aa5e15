import { HarnessError } from '@iii-harness/runtime';
import type { AgentEvent, SpanTreeNode, TraceGroup } from '@iii-harness/types';
import { type HarnessClient, isMissingFunction } from '../client.js';
import { CliError, usageError } from '../errors.js';
import {
  allSpans,
  attribute,
  groupIntoTurns,
  SESSION_ATTRIBUTES,
  TURN_ATTRIBUTES,
  type TurnTrace,
  withEvents,
} from './model.js';

/**
 * What `iii-harness trace` reads: the engine's stored traces (`engine::traces::*`) of a session,
 * a turn or one trace id, grouped into turns, with the session's agent events for the model, the
 * outcome and the waits for a person.
 */

export type TraceTarget = { kind: 'session' | 'turn' | 'trace'; id: string };

const TRACE_ID = /^[0-9a-f]{32}$/i;

const NO_TRACES =
  'this engine does not serve traces (engine::traces::* is not registered): `iii-harness dev` runs one that does; a real iii engine needs its observability worker (iii-observability) with the memory exporter';

/** Engine errors that mean "no trace storage here", as one line that says what to do. */
export function explainTraceError(error: unknown): unknown {
  if (isMissingFunction(error)) return new CliError(NO_TRACES);
  if (error instanceof HarnessError && /memory.?exporter/i.test(`${error.reason ?? ''} ${error.message}`))
    return new CliError(
      'the engine keeps no traces (its observability exporter is `otlp`): set `exporter: memory` (or `both`) in its iii-observability config',
    );
  return error;
}

/** The turn ids and the session of every group, merged across the attribute names in use. */
interface TurnSummary {
  turn_id: string;
  session_id?: string;
  trace_ids: string[];
  first_seen_ms: number;
  last_seen_ms: number;
  span_count: number;
  error_count: number;
}

/** Groups of several attributes naming the same thing, merged by value. */
async function groupsOf(client: HarnessClient, attributes: readonly string[]): Promise<Map<string, TraceGroup>> {
  const merged = new Map<string, TraceGroup>();
  const all = await Promise.all(attributes.map((a) => client.traceGroups(a)));
  for (const group of all.flat()) {
    const known = merged.get(group.value);
    if (!known) {
      merged.set(group.value, { ...group, trace_ids: [...group.trace_ids] });
      continue;
    }
    // The same spans may carry both names: keep the larger counts, not their sum.
    known.trace_ids = [...new Set([...known.trace_ids, ...group.trace_ids])];
    known.first_seen_ms = Math.min(known.first_seen_ms, group.first_seen_ms);
    known.last_seen_ms = Math.max(known.last_seen_ms, group.last_seen_ms);
    known.span_count = Math.max(known.span_count, group.span_count);
    known.error_count = Math.max(known.error_count, group.error_count);
  }
  return merged;
}

/** Recent turns, newest first, each with its session when its spans name one. */
export async function recentTurns(client: HarnessClient, sessionId?: string): Promise<TurnSummary[]> {
  try {
    const [turns, sessions] = await Promise.all([
      groupsOf(client, TURN_ATTRIBUTES),
      groupsOf(client, SESSION_ATTRIBUTES),
    ]);
    const sessionOfTrace = new Map<string, string>();
    for (const group of sessions.values()) for (const id of group.trace_ids) sessionOfTrace.set(id, group.value);
    return [...turns.values()]
      .map((g): TurnSummary => {
        const session = g.trace_ids.map((id) => sessionOfTrace.get(id)).find(Boolean);
        return {
          turn_id: g.value,
          ...(session ? { session_id: session } : {}),
          trace_ids: g.trace_ids,
          first_seen_ms: g.first_seen_ms,
          last_seen_ms: g.last_seen_ms,
          span_count: g.span_count,
          error_count: g.error_count,
        };
      })
      .filter((t) => !sessionId || t.session_id === sessionId)
      .sort((a, b) => b.first_seen_ms - a.first_seen_ms);
  } catch (error) {
    throw explainTraceError(error);
  }
}

async function trees(client: HarnessClient, traceIds: string[]) {
  return Promise.all(traceIds.map(async (trace_id) => ({ trace_id, roots: await client.traceTree(trace_id) })));
}

/** Which kind of id this is, and the traces that belong to it. */
async function resolveTarget(
  client: HarnessClient,
  id: string,
): Promise<{ target: TraceTarget; traces: Array<{ trace_id: string; roots: SpanTreeNode[] }> }> {
  if (TRACE_ID.test(id)) {
    const found = await trees(client, [id.toLowerCase()]);
    if (found[0]!.roots.length === 0) throw usageError(`the engine has no trace ${id} (\`iii-harness trace ls\`)`);
    return { target: { kind: 'trace', id }, traces: found };
  }
  const session = (await groupsOf(client, SESSION_ATTRIBUTES)).get(id);
  if (session) return { target: { kind: 'session', id }, traces: await trees(client, session.trace_ids) };
  const turn = (await groupsOf(client, TURN_ATTRIBUTES)).get(id);
  if (turn) return { target: { kind: 'turn', id }, traces: await trees(client, turn.trace_ids) };
  const known = await client.getSession(id).catch(() => undefined);
  if (known)
    throw new CliError(
      `no spans were recorded for session ${id}: workers send them to the engine unless OTEL_ENABLED=false, and the engine keeps them for a day (its retention)`,
    );
  throw usageError(`no session, turn or trace ${id} has spans in this engine (\`iii-harness trace ls\` lists turns)`);
}

export interface TraceView {
  target: TraceTarget;
  turns: TurnTrace[];
  /** The session's agent events (empty when they could not be read). */
  events: AgentEvent[];
}

export async function collectTrace(client: HarnessClient, id: string, now = Date.now()): Promise<TraceView> {
  try {
    const { target, traces } = await resolveTarget(client, id);
    let turns = groupIntoTurns(traces);
    if (target.kind === 'turn') turns = turns.filter((t) => t.turn_id === id);
    const sessionId =
      target.kind === 'session'
        ? id
        : (turns.find((t) => t.session_id)?.session_id ??
          allSpans(traces.flatMap((t) => t.roots))
            .map((s) => attribute(s, SESSION_ATTRIBUTES))
            .find(Boolean));
    const events = sessionId ? await client.agentEvents(sessionId).catch(() => []) : [];
    return { target, turns: turns.map((t) => withEvents(t, events, now)), events };
  } catch (error) {
    throw explainTraceError(error);
  }
}

/** Log lines of the traces, by span id (`WARN message`), oldest first. */
export async function logsBySpan(client: HarnessClient, traceIds: string[]): Promise<Map<string, string[]>> {
  const bySpan = new Map<string, string[]>();
  const all = (await Promise.all(traceIds.map((id) => client.traceLogs(id)))).flat();
  for (const log of all.sort((a, b) => a.timestamp_unix_nano - b.timestamp_unix_nano)) {
    if (!log.span_id) continue;
    const lines = bySpan.get(log.span_id) ?? [];
    lines.push(`${log.severity_text || 'LOG'} ${log.body}`);
    bySpan.set(log.span_id, lines);
  }
  return bySpan;
}
