import { stripVTControlCharacters } from 'node:util';
import type { AgentEvent, SpanTreeNode } from '@iii-harness/types';
import {
  groupIntoTurns,
  placeWaits,
  spanRows,
  turnRows,
  waitsFromEvents,
  waitsFromSpans,
  withEvents,
} from '../../src/trace/model.js';
import { columnOf, renderWaterfall, timeAxis } from '../../src/trace/waterfall.js';

const MS = 1_000_000;
let nextId = 0;

/** A span from `start` to `end` (ms), with children. */
function span(
  name: string,
  start: number,
  end: number,
  options: { children?: SpanTreeNode[]; attrs?: Record<string, string>; error?: string; trace?: string } = {},
): SpanTreeNode {
  return {
    trace_id: options.trace ?? 't1',
    span_id: `s${++nextId}`,
    parent_span_id: null,
    name,
    start_time_unix_nano: start * MS,
    end_time_unix_nano: end * MS,
    status: options.error ? 'error' : 'ok',
    attributes: Object.entries(options.attrs ?? {}),
    events: options.error
      ? [{ name: 'exception', timestamp_unix_nano: start * MS, attributes: [['exception.message', options.error]] }]
      : [],
    links: [],
    children: options.children ?? [],
  };
}

/** What the SDK and our runtime record for one handler: `execute f` around `f`. */
const call = (name: string, start: number, end: number, children: SpanTreeNode[] = [], attrs = {}, error?: string) =>
  span(`execute ${name}`, start, end, {
    attrs,
    ...(error ? { error } : {}),
    children: [span(name, start, end, { attrs, children, ...(error ? { error: 'x' } : {}) })],
  });

const turnAttrs = { session_id: 'S', turn_id: 'T' };
let seq = 0;
const event = (e: Record<string, unknown>): AgentEvent =>
  ({ session_id: 'S', turn_id: 'T', seq: ++seq, ...e }) as unknown as AgentEvent;

describe('trace model', () => {
  test('`execute f` around `f` is one row; children keep their depth; errors carry their message', () => {
    const rows = spanRows([
      call('harness::send', 0, 100, [
        call('turn::get_state', 5, 10, [], {}, 'not_found: no turn'),
        call('provider::demo::stream', 20, 90, [], turnAttrs),
      ]),
    ]);
    expect(rows.map((r) => [r.name, r.depth, r.role])).toEqual([
      ['harness::send', 0, 'step'],
      ['turn::get_state', 1, 'step'],
      ['provider::demo::stream', 1, 'model'],
    ]);
    expect(rows[1]).toMatchObject({ failed: true, error: 'not_found: no turn' });
    expect(rows[0]!.span_ids).toHaveLength(2);
  });

  test('the functions the agent called are tools, told apart from the harness calls around them', () => {
    const tree = [
      call('turn::function_execute', 0, 10, [call('policy::check_permissions', 1, 2), call('demo::clock', 3, 4)]),
    ];
    const roles = (tools?: Set<string>) => spanRows(tree, tools).map((r) => r.role);
    expect(roles(new Set(['demo::clock']))).toEqual(['step', 'other', 'tool']);
    // Without agent events: what a function-execution step runs, other than policy/session/..., is a tool.
    expect(roles()).toEqual(['step', 'other', 'tool']);
  });

  test('traces group into turns by turn id; a trace without one joins the turn running then, or stands alone', () => {
    const first = {
      trace_id: 'a',
      roots: [call('harness::send', 0, 100, [call('turn::provisioning', 10, 20, [], turnAttrs)])],
    };
    const second = {
      trace_id: 'b',
      roots: [call('approval::resolve', 5_000, 5_100, [call('turn::x', 5_010, 5_090, [], turnAttrs)])],
    };
    const steer = { trace_id: 'c', roots: [call('harness::send', 50, 60, [], { session_id: 'S' })] };
    const later = { trace_id: 'd', roots: [call('session::list', 9_000, 9_010)] };
    const turns = groupIntoTurns([second, later, steer, first]);
    expect(turns.map((t) => [t.turn_id, t.trace_ids])).toEqual([
      ['T', ['b', 'a', 'c']],
      [undefined, ['d']],
    ]);
    expect(turns[0]).toMatchObject({ session_id: 'S', start: 0, end: 5_100, span_count: 10 });
    expect(turns[0]!.roots.map((r) => r.start_time_unix_nano / MS)).toEqual([0, 50, 5_000]);
  });

  test('waits for a person come from the approval events: decided, aborted by the turn end, or still open', () => {
    const events = [
      event({ type: 'approval_requested', function_call_id: 'c1', function_id: 'fs::rm', args: {}, timestamp: 100 }),
      event({ type: 'approval_resolved', function_call_id: 'c1', decision: 'deny', reason: 'no', timestamp: 900 }),
      event({ type: 'approval_requested', function_call_id: 'c2', function_id: 'fs::mv', args: {}, timestamp: 1_000 }),
    ];
    const open = waitsFromEvents(events, 5_000);
    expect(open.map((w) => [w.function_id, w.start, w.end, w.decision, w.reason])).toEqual([
      ['fs::rm', 100, 900, 'deny', 'no'],
      ['fs::mv', 1_000, 5_000, undefined, undefined],
    ]);
    const ended = waitsFromEvents([...events, event({ type: 'turn_completed', status: 'aborted', timestamp: 2_000 })]);
    expect(ended[1]).toMatchObject({ end: 2_000, decision: 'aborted' });
  });

  test('without events, a hold waits until the next approval::resolve; waits sit right under their hold', () => {
    const rows = spanRows([
      call('turn::function_execute', 0, 30, [call('approval::hold', 10, 20)]),
      call('approval::resolve', 4_000, 4_010),
    ]);
    const waits = waitsFromSpans(rows);
    expect(waits).toEqual([expect.objectContaining({ start: 20, end: 4_000, decision: 'decided' })]);
    const placed = placeWaits(rows, waits);
    expect(placed.map((r) => (r.kind === 'wait' ? `wait@${r.depth}` : r.name))).toEqual([
      'turn::function_execute',
      'approval::hold',
      'wait@1',
      'approval::resolve',
    ]);
  });

  test("a turn's rows use the events' waits when there are any", () => {
    const [turn] = groupIntoTurns([
      { trace_id: 'a', roots: [call('turn::function_execute', 0, 30, [call('approval::hold', 10, 20)], turnAttrs)] },
    ]);
    const events = [
      event({ type: 'turn_started', provider: 'demo', model: 'm', timestamp: 0 }),
      event({ type: 'approval_requested', function_call_id: 'c1', function_id: 'fs::rm', args: {}, timestamp: 21 }),
    ];
    const full = withEvents(turn!, events, 600);
    expect(full).toMatchObject({ provider: 'demo', model: 'm' });
    const rows = turnRows(full, new Set());
    expect(rows[2]).toMatchObject({ kind: 'wait', function_id: 'fs::rm', start: 21, end: 600, depth: 1 });
  });
});

describe('waterfall', () => {
  test('a long idle stretch is shortened on the axis; busy time is spread over the rest', () => {
    const axis = timeAxis(
      [
        [0, 100],
        [10_000, 10_100],
      ],
      0,
      10_100,
      63,
    );
    expect(axis.map((s) => s.collapsed)).toEqual([false, true, false]);
    expect(columnOf(axis, 0)).toBe(0);
    expect(columnOf(axis, 100)).toBeCloseTo(30);
    expect(columnOf(axis, 10_000)).toBeCloseTo(33);
    expect(columnOf(axis, 10_100)).toBeCloseTo(63);
    // Short gaps stay to scale.
    const even = timeAxis(
      [
        [0, 100],
        [120, 200],
      ],
      0,
      200,
      40,
    );
    expect(even.some((s) => s.collapsed)).toBe(false);
    expect(columnOf(even, 100)).toBeCloseTo(20);
  });

  test('rows are indented by depth, errors and waits are spelled out under them', () => {
    const rows = turnRows(
      withEvents(
        groupIntoTurns([
          {
            trace_id: 'a',
            roots: [
              call(
                'turn::function_execute',
                0,
                40,
                [call('auth::get_token', 2, 3, [], {}, 'not_found: no key'), call('approval::hold', 10, 20)],
                turnAttrs,
              ),
            ],
          },
        ])[0]!,
        [
          event({ type: 'approval_requested', function_call_id: 'c1', function_id: 'fs::rm', args: {}, timestamp: 20 }),
          event({ type: 'approval_resolved', function_call_id: 'c1', decision: 'allow', timestamp: 7_020 }),
        ],
      ),
      new Set(['fs::rm']),
    );
    const lines = renderWaterfall(rows, { width: 100 }).map(stripVTControlCharacters);
    const text = lines.join('\n');
    expect(lines[0]).toMatch(/^\s+0\s+7\.0 s$/);
    expect(text).toMatch(/^turn::function_execute\s+█+/m);
    expect(text).toMatch(/^ {2}✖ auth::get_token\s/m);
    expect(text).toMatch(/^ {4}⎿ not_found: no key$/m);
    expect(text).toMatch(/^ {2}⏸ waiting for a person\s+░+\s+7\.0 s$/m);
    expect(text).toMatch(/^ {4}⎿ fs::rm · allowed$/m);
    expect(text).toMatch(/≈ nothing running \(shortened\)/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
  });
});
