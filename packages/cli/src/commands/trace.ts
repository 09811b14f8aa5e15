import type { GlobalOptions } from '../program.js';
import { c, printJson, table, when } from '../style.js';
import { collectTrace, logsBySpan, recentTurns, type TraceView } from '../trace/collect.js';
import { agentFunctions, type Row, type TurnTrace, turnRows } from '../trace/model.js';
import { formatMs, type Look, renderWaterfall } from '../trace/waterfall.js';
import { withClient } from './common.js';

export interface TraceOptions {
  json: boolean;
  limit: number;
  session?: string;
  logs: boolean;
}

/** The waterfall's looks as colours: the model cyan, the agent's calls magenta, waits yellow, errors red. */
const LOOKS: Record<Look, (text: string) => string> = {
  dim: c.dim,
  error: c.red,
  wait: c.yellow,
  'wait-label': c.yellow.bold,
  model: c.cyan,
  'model-label': c.cyan.bold,
  tool: c.magenta,
  'tool-label': c.magenta.bold,
  approval: c.yellow,
  'approval-label': (text) => text,
  step: c.blue,
  'step-label': (text) => text,
  other: c.gray,
  'other-label': c.dim,
};
const paint = (look: Look, text: string) => LOOKS[look](text);

/** Milliseconds to the microsecond: span times are nanoseconds, and floats print badly. */
const ms = (value: number) => Math.round(value * 1000) / 1000;
const short = (id: string) => (id.length > 13 ? `${id.slice(0, 13)}…` : id);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `trace ls`: recent turns, newest first. */
async function listTurns(options: TraceOptions, globals: GlobalOptions): Promise<void> {
  await withClient(globals, async (client) => {
    const turns = (await recentTurns(client, options.session)).slice(0, options.limit);
    if (options.json) return printJson({ turns });
    if (turns.length === 0) {
      process.stdout.write(
        `No traced turns${options.session ? ` in session ${options.session}` : ''} yet. Workers send their spans to the engine unless OTEL_ENABLED=false; run a turn (\`iii-harness send "hi" --wait\`) and look again.\n`,
      );
      return;
    }
    const rows = [
      ['STARTED', 'TURN', 'SESSION', 'DURATION', 'SPANS', 'ERRORS', 'TRACES'].map((h) => c.dim(h)),
      ...turns.map((t) => [
        when(t.first_seen_ms),
        t.turn_id,
        t.session_id ?? c.dim('?'),
        formatMs(t.last_seen_ms - t.first_seen_ms),
        String(t.span_count),
        t.error_count ? c.red(String(t.error_count)) : '0',
        String(t.trace_ids.length),
      ]),
    ];
    process.stdout.write(`${table(rows)}\n${c.dim('iii-harness trace <turn | session> shows one as a waterfall.')}\n`);
  });
}

function turnHeader(turn: TurnTrace): string {
  const title = turn.turn_id ? `Turn ${turn.turn_id}` : `Outside a turn: ${turn.roots[0]?.name ?? 'trace'}`;
  const outcome = turn.outcome
    ? turn.outcome === 'stopped'
      ? c.green(turn.outcome)
      : turn.outcome === 'aborted'
        ? c.yellow(turn.outcome)
        : c.red(turn.outcome)
    : turn.turn_id
      ? c.yellow('running')
      : '';
  const parts = [
    turn.provider ? `${turn.provider}/${turn.model}` : '',
    outcome,
    formatMs(turn.end - turn.start),
    plural(turn.span_count, 'span'),
    turn.error_count ? c.red(plural(turn.error_count, 'error')) : '',
    turn.waits.length ? c.yellow(`${plural(turn.waits.length, 'wait')} for a person`) : '',
    `${turn.trace_ids.length === 1 ? 'trace' : 'traces'} ${turn.trace_ids.map(short).join(', ')}`,
  ].filter(Boolean);
  return `${c.bold(title)} ${c.dim('·')} ${parts.join(c.dim(' · '))}`;
}

function viewTitle(view: TraceView): string {
  const { target, turns } = view;
  const spans = turns.reduce((n, t) => n + t.span_count, 0);
  const traces = turns.reduce((n, t) => n + t.trace_ids.length, 0);
  const what = target.kind === 'session' ? 'Session' : target.kind === 'turn' ? 'Turn' : 'Trace';
  return `${c.bold(`${what} ${target.id}`)} ${c.dim(`· ${plural(turns.length, 'turn')} · ${plural(traces, 'trace')} · ${plural(spans, 'span')}`)}`;
}

const rowJson = (row: Row) =>
  row.kind === 'wait'
    ? {
        kind: 'wait',
        depth: row.depth,
        start_ms: ms(row.start),
        duration_ms: ms(row.end - row.start),
        function_id: row.function_id,
        function_call_id: row.function_call_id,
        decision: row.decision ?? null,
        ...(row.reason ? { reason: row.reason } : {}),
      }
    : {
        kind: 'span',
        name: row.name,
        depth: row.depth,
        role: row.role,
        start_ms: ms(row.start),
        duration_ms: ms(row.end - row.start),
        status: row.failed ? 'error' : 'ok',
        ...(row.error ? { error: row.error } : {}),
        trace_id: row.trace_id,
        span_id: row.span_id,
      };

/** `trace <id>`: every turn of a session (or one turn, or one trace) as a waterfall. */
async function showTrace(id: string | undefined, options: TraceOptions, globals: GlobalOptions): Promise<void> {
  await withClient(globals, async (client) => {
    let target = id;
    if (!target) {
      const [latest] = await recentTurns(client, options.session);
      if (!latest) return listTurns(options, globals);
      target = latest.turn_id;
    }
    const view = await collectTrace(client, target);
    const rowsOf = (turn: TurnTrace) => turnRows(turn, agentFunctions(view.events, turn.turn_id));
    if (options.json)
      return printJson({
        target: view.target,
        turns: view.turns.map((turn) => ({
          turn_id: turn.turn_id ?? null,
          session_id: turn.session_id ?? null,
          provider: turn.provider ?? null,
          model: turn.model ?? null,
          outcome: turn.outcome ?? null,
          trace_ids: turn.trace_ids,
          start_ms: ms(turn.start),
          duration_ms: ms(turn.end - turn.start),
          span_count: turn.span_count,
          error_count: turn.error_count,
          rows: rowsOf(turn).map(rowJson),
          roots: turn.roots,
        })),
      });
    const width = process.stdout.columns ?? (Number(process.env.COLUMNS) || 120);
    // One turn asked for: its own header says it all.
    const out = view.target.kind === 'turn' ? [] : [viewTitle(view), ''];
    for (const [i, turn] of view.turns.entries()) {
      const logs = options.logs ? await logsBySpan(client, turn.trace_ids) : undefined;
      out.push(
        ...(i > 0 ? [''] : []),
        turnHeader(turn),
        ...renderWaterfall(rowsOf(turn), { width, paint, ...(logs ? { logs } : {}) }),
      );
    }
    process.stdout.write(`${out.join('\n')}\n`);
  });
}

export async function runTrace(id: string | undefined, options: TraceOptions, globals: GlobalOptions): Promise<void> {
  if (id === 'ls') return listTurns(options, globals);
  return showTrace(id, options, globals);
}
