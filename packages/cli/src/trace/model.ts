import type { AgentEvent, SpanTreeNode } from '@iii-harness/types';

/**
 * A turn's spans as the rows of a waterfall, without the terminal: pure functions over what the
 * engine's `engine::traces::tree` returned and the session's agent events.
 *
 * - The SDK wraps every handler in an `execute <fn>` span and our runtime opens `<fn>` inside it
 *   (a real engine adds `call <fn>` around both): such a chain is one row.
 * - Traces are grouped into turns by the turn id their spans carry. Today a turn can be several
 *   traces (the steps after an approval start a new one); once a turn is one trace, it is one.
 * - The time a call waited for a person is a row of its own: from the agent events
 *   (`approval_requested` → `approval_resolved`), else from the spans (`approval::hold` →
 *   `approval::resolve`).
 */

/** Span attributes naming the session and the turn: the iii convention first, then our runtime's. */
export const SESSION_ATTRIBUTES = ['iii.session.id', 'session_id'] as const;
export const TURN_ATTRIBUTES = ['iii.turn.id', 'turn_id'] as const;

export type SpanRole = 'model' | 'tool' | 'approval' | 'step' | 'other';

export interface SpanRow {
  kind: 'span';
  span_id: string;
  /** Every span merged into this row (`execute f` and `f`): logs may name any of them. */
  span_ids: string[];
  trace_id: string;
  name: string;
  depth: number;
  /** Milliseconds since the epoch (fractional). */
  start: number;
  end: number;
  error?: string;
  failed: boolean;
  role: SpanRole;
  attributes: Array<[string, string]>;
}

export interface WaitRow {
  kind: 'wait';
  depth: number;
  start: number;
  end: number;
  function_id?: string;
  function_call_id?: string;
  /** allow, deny, aborted; undefined while still waiting. */
  decision?: string;
  reason?: string;
}

export type Row = SpanRow | WaitRow;

/** One turn (or, for traces outside any turn, one trace) and the rows of its waterfall. */
export interface TurnTrace {
  turn_id?: string;
  session_id?: string;
  trace_ids: string[];
  roots: SpanTreeNode[];
  start: number;
  end: number;
  span_count: number;
  error_count: number;
  waits: WaitRow[];
  /** From the agent events, when the session has them. */
  provider?: string;
  model?: string;
  outcome?: string;
}

const NS_PER_MS = 1_000_000;
const WRAPPERS = /^(?:call|execute) /;
export const baseName = (name: string) => name.replace(WRAPPERS, '');

export const attribute = (span: { attributes: Array<[string, string]> }, names: readonly string[]) => {
  for (const name of names) {
    const found = span.attributes.find(([k]) => k === name);
    if (found?.[1]) return found[1];
  }
  return undefined;
};

function* walk(nodes: SpanTreeNode[]): Generator<SpanTreeNode> {
  for (const node of nodes) {
    yield node;
    yield* walk(node.children);
  }
}

/** Every span of these trees, depth first. */
export const allSpans = (roots: SpanTreeNode[]): SpanTreeNode[] => [...walk(roots)];

/** The error a span carries: its status description, else the message of its exception event. */
function errorOf(span: SpanTreeNode): string | undefined {
  const exception = span.events.find((e) => e.name === 'exception');
  const message = exception?.attributes.find(([k]) => k === 'exception.message')?.[1];
  return message || span.status_description || undefined;
}

interface Merged {
  name: string;
  first: SpanTreeNode;
  chain: SpanTreeNode[];
  children: SpanTreeNode[];
}

/** `call f` → `execute f` → `f`: one row named `f`, timed by the outermost, failed if any failed. */
function mergeChain(node: SpanTreeNode): Merged {
  const chain = [node];
  let last = node;
  while (last.children.length === 1 && baseName(last.children[0]!.name) === baseName(node.name)) {
    last = last.children[0]!;
    chain.push(last);
  }
  return { name: baseName(node.name), first: node, chain, children: last.children };
}

function roleOf(name: string, tools: ReadonlySet<string>, parent?: string): SpanRole {
  if (/^provider::[^:]+::stream$/.test(name)) return 'model';
  if (tools.has(name)) return 'tool';
  if (name.startsWith('approval::')) return 'approval';
  if (name.startsWith('turn::') || name.startsWith('run::') || name === 'harness::send') return 'step';
  // Without agent events: what a function-execution step runs, other than the harness's own calls.
  if (parent === 'turn::function_execute' && !/^(policy|approval|session|turn|hooks?)::/.test(name)) return 'tool';
  return 'other';
}

/** The rows of some span trees, depth first, children in start order. */
export function spanRows(roots: SpanTreeNode[], tools: ReadonlySet<string> = new Set()): SpanRow[] {
  const rows: SpanRow[] = [];
  const visit = (node: SpanTreeNode, depth: number, parent?: string) => {
    const merged = mergeChain(node);
    const error = merged.chain.map(errorOf).find(Boolean);
    const failed = merged.chain.some((s) => s.status === 'error');
    rows.push({
      kind: 'span',
      span_id: merged.first.span_id,
      span_ids: merged.chain.map((s) => s.span_id),
      trace_id: merged.first.trace_id,
      name: merged.name,
      depth,
      start: merged.first.start_time_unix_nano / NS_PER_MS,
      end: Math.max(merged.first.end_time_unix_nano, merged.first.start_time_unix_nano) / NS_PER_MS,
      failed,
      ...(failed && error ? { error } : {}),
      role: roleOf(merged.name, tools, parent),
      attributes: merged.chain.flatMap((s) => s.attributes),
    });
    for (const child of byStart(merged.children)) visit(child, depth + 1, merged.name);
  };
  for (const root of byStart(roots)) visit(root, 0);
  return rows;
}

const byStart = (nodes: SpanTreeNode[]) => [...nodes].sort((a, b) => a.start_time_unix_nano - b.start_time_unix_nano);

/** Waits for a person in one turn, from its agent events. */
export function waitsFromEvents(events: AgentEvent[], now = Date.now()): WaitRow[] {
  const waits = new Map<string, WaitRow>();
  let ended: number | undefined;
  for (const event of events) {
    if (event.type === 'approval_requested')
      waits.set(event.function_call_id, {
        kind: 'wait',
        depth: 0,
        start: event.timestamp,
        end: Number.NaN,
        function_id: event.function_id,
        function_call_id: event.function_call_id,
      });
    else if (event.type === 'approval_resolved') {
      const wait = waits.get(event.function_call_id);
      if (wait && Number.isNaN(wait.end)) {
        wait.end = event.timestamp;
        wait.decision = event.decision;
        if (event.reason) wait.reason = event.reason;
      }
    } else if (event.type === 'turn_completed') ended = event.timestamp;
  }
  for (const wait of waits.values())
    if (Number.isNaN(wait.end)) {
      // The turn ended without a decision (aborted), or the person has not answered yet.
      wait.end = ended ?? now;
      if (ended !== undefined) wait.decision = 'aborted';
    }
  return [...waits.values()];
}

/** Without agent events: each `approval::hold` span waits until the next `approval::resolve` (or abort). */
export function waitsFromSpans(rows: SpanRow[], now = Date.now()): WaitRow[] {
  const byTime = [...rows].sort((a, b) => a.start - b.start);
  const waits: WaitRow[] = [];
  for (const hold of byTime.filter((r) => r.name === 'approval::hold')) {
    const decision = byTime.find(
      (r) => r.start >= hold.end && (r.name === 'approval::resolve' || r.name === 'run::abort'),
    );
    waits.push({
      kind: 'wait',
      depth: 0,
      start: hold.end,
      end: decision?.start ?? now,
      ...(decision ? { decision: decision.name === 'run::abort' ? 'aborted' : 'decided' } : {}),
    });
  }
  return waits;
}

/**
 * Rows with the waits in place: each right after the `approval::hold` row that opened it (at its
 * depth), else among the top-level rows by time.
 */
export function placeWaits(rows: SpanRow[], waits: WaitRow[]): Row[] {
  const out: Row[] = [...rows];
  for (const wait of [...waits].sort((a, b) => a.start - b.start)) {
    let at = -1;
    out.forEach((row, i) => {
      if (row.kind === 'span' && row.name === 'approval::hold' && row.start <= wait.start + 50) at = i;
    });
    if (at >= 0) {
      out.splice(at + 1, 0, { ...wait, depth: out[at]!.depth });
      continue;
    }
    const next = out.findIndex((row) => row.depth === 0 && row.start > wait.start);
    out.splice(next < 0 ? out.length : next, 0, { ...wait, depth: 0 });
  }
  return out;
}

/** Which turn each trace belongs to (the earliest turn id its spans carry), else undefined. */
function turnOfTrace(roots: SpanTreeNode[]): string | undefined {
  let best: { turn: string; at: number } | undefined;
  for (const span of allSpans(roots)) {
    const turn = attribute(span, TURN_ATTRIBUTES);
    if (turn && (!best || span.start_time_unix_nano < best.at)) best = { turn, at: span.start_time_unix_nano };
  }
  return best?.turn;
}

const spanWindow = (roots: SpanTreeNode[]) => {
  const spans = allSpans(roots);
  return {
    start: Math.min(...spans.map((s) => s.start_time_unix_nano)) / NS_PER_MS,
    end: Math.max(...spans.map((s) => s.end_time_unix_nano)) / NS_PER_MS,
  };
};

/**
 * Traces grouped into turns, in time order. A trace without a turn id (a message sent to steer a
 * running turn, say) joins the turn running when it started, or stands alone.
 */
export function groupIntoTurns(traces: Array<{ trace_id: string; roots: SpanTreeNode[] }>): TurnTrace[] {
  const turns = new Map<string, TurnTrace>();
  const loose: Array<{ trace_id: string; roots: SpanTreeNode[] }> = [];
  const add = (turn: TurnTrace, trace: { trace_id: string; roots: SpanTreeNode[] }) => {
    const spans = allSpans(trace.roots);
    const window = spanWindow(trace.roots);
    turn.trace_ids.push(trace.trace_id);
    turn.roots.push(...trace.roots);
    turn.start = Math.min(turn.start, window.start);
    turn.end = Math.max(turn.end, window.end);
    turn.span_count += spans.length;
    turn.error_count += spans.filter((s) => s.status === 'error').length;
    turn.session_id ??= spans.map((s) => attribute(s, SESSION_ATTRIBUTES)).find(Boolean);
  };
  const fresh = (turn_id?: string): TurnTrace => ({
    ...(turn_id ? { turn_id } : {}),
    trace_ids: [],
    roots: [],
    start: Number.POSITIVE_INFINITY,
    end: Number.NEGATIVE_INFINITY,
    span_count: 0,
    error_count: 0,
    waits: [],
  });
  for (const trace of traces) {
    if (allSpans(trace.roots).length === 0) continue;
    const turnId = turnOfTrace(trace.roots);
    if (!turnId) {
      loose.push(trace);
      continue;
    }
    const turn = turns.get(turnId) ?? fresh(turnId);
    turns.set(turnId, turn);
    add(turn, trace);
  }
  const out = [...turns.values()];
  for (const trace of loose) {
    const { start } = spanWindow(trace.roots);
    const host = out.find((t) => t.turn_id && t.start <= start && start <= t.end);
    if (host) add(host, trace);
    else {
      const alone = fresh();
      add(alone, trace);
      out.push(alone);
    }
  }
  for (const turn of out) turn.roots.sort((a, b) => a.start_time_unix_nano - b.start_time_unix_nano);
  return out.sort((a, b) => a.start - b.start);
}

/** Fill a turn's model, outcome and waits from its agent events (the session's, any order). */
export function withEvents(turn: TurnTrace, sessionEvents: AgentEvent[], now = Date.now()): TurnTrace {
  const events = sessionEvents.filter((e) => e.turn_id === turn.turn_id).sort((a, b) => a.seq - b.seq);
  if (events.length === 0) return turn;
  const started = events.find((e) => e.type === 'turn_started');
  const completed = events.find((e) => e.type === 'turn_completed');
  return {
    ...turn,
    ...(started?.type === 'turn_started' ? { provider: started.provider, model: started.model } : {}),
    ...(completed?.type === 'turn_completed' ? { outcome: completed.status } : {}),
    waits: waitsFromEvents(events, now),
  };
}

/** The function ids the agent called in a turn (to tell its calls from the harness's own). */
export function agentFunctions(sessionEvents: AgentEvent[], turnId?: string): Set<string> {
  return new Set(
    sessionEvents.flatMap((e) =>
      e.turn_id === turnId && (e.type === 'function_execution_start' || e.type === 'approval_requested')
        ? [e.function_id]
        : [],
    ),
  );
}

/** The rows of one turn: its spans, and its waits in place (from events, else from the spans). */
export function turnRows(turn: TurnTrace, tools: ReadonlySet<string>, now = Date.now()): Row[] {
  const rows = spanRows(turn.roots, tools);
  const waits = turn.waits.length ? turn.waits : waitsFromSpans(rows, now);
  return placeWaits(rows, waits);
}
