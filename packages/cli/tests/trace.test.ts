import { cli, DevStack, eventually, freePort, hasStackTrace, tempDir, testEnv } from './helpers/cli.js';

// `iii-harness trace` against `iii-harness dev` with tracing on (the workers send their spans to
// the dev engine over /otel, as they do by default): a turn with a function call and a call held
// for approval, shown as a waterfall and as JSON.
jest.setTimeout(300_000);

const CORE = 'session,models-catalog,auth-credentials,harness,approval-gate,hook-fanout,turn-orchestrator';
const dir = tempDir();
const env = testEnv(dir);
// The workers export their spans: the helpers' default (OTEL_ENABLED=false) is for the other tests.
const stackEnv = { ...env, OTEL_ENABLED: 'true' };
let stack: DevStack;
const run = (...args: string[]) => cli(['--url', stack.url, ...args], { cwd: dir, env });

interface JsonRow {
  kind: 'span' | 'wait';
  name?: string;
  depth: number;
  role?: string;
  status?: string;
  error?: string;
  function_id?: string;
  decision?: string | null;
  duration_ms: number;
}
interface JsonTurn {
  turn_id: string | null;
  session_id: string | null;
  outcome: string | null;
  provider: string | null;
  trace_ids: string[];
  rows: JsonRow[];
}

/** The row a row is nested under: the nearest row above it one level up. */
const parentOf = (rows: JsonRow[], index: number) => {
  for (let i = index - 1; i >= 0; i--) if (rows[i]!.depth === rows[index]!.depth - 1) return rows[i];
  return undefined;
};

let sessionId = '';
let turnId = '';

beforeAll(async () => {
  expect((await cli(['init'], { cwd: dir, env })).code).toBe(0);
  stack = new DevStack(dir, await freePort(), stackEnv, ['--only', CORE, '--demo', '--memory']);
  await stack.start();

  // A turn: the demo streams an answer, calls demo::clock (allowed), then demo::save_note (held).
  const held = await run('send', 'trace me', '--provider', 'demo', '--json', '--no-wait-approval');
  expect(held.code).toBe(4);
  const events = held.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  sessionId = events[0].session_id;
  turnId = events[0].turn_id;
  const callId = events.findLast((e: { type: string }) => e.type === 'approval_requested').function_call_id;
  expect((await run('approve', 'allow', callId)).code).toBe(0);
});

afterAll(async () => {
  await stack?.stop();
});

/** The session's trace once its spans are in (exporters send them in batches) and the turn is over. */
async function sessionTrace(): Promise<JsonTurn[]> {
  return eventually(
    async () => {
      const result = await run('trace', sessionId, '--json');
      if (result.code !== 0) throw new Error(result.stderr);
      const { turns } = JSON.parse(result.stdout) as { turns: JsonTurn[] };
      const rows = turns.flatMap((t) => t.rows);
      if (turns[0]?.outcome !== 'stopped' || !rows.some((r) => r.name === 'demo::save_note'))
        throw new Error(`turn not complete in the trace yet:\n${result.stdout.slice(0, 2_000)}`);
      // The last step's provider stream is in too.
      if (rows.filter((r) => r.name === 'provider::demo::stream').length < 3) throw new Error('spans still arriving');
      return turns;
    },
    90_000,
    1_000,
  );
}

test('trace <session> --json: the provider stream and the function calls nested under the turn, the wait for a person in place', async () => {
  const turns = await sessionTrace();
  expect(turns).toHaveLength(1);
  const [turn] = turns as [JsonTurn];
  expect(turn).toMatchObject({ turn_id: turnId, session_id: sessionId, provider: 'demo', outcome: 'stopped' });
  const rows = turn.rows;
  // The approval continues the turn's trace (a trace the console or another tool started would be gathered too).
  expect(turn.trace_ids.length).toBeGreaterThanOrEqual(1);

  const streams = rows.flatMap((r, i) => (r.name === 'provider::demo::stream' ? [i] : []));
  for (const i of streams) {
    expect(rows[i]!.role).toBe('model');
    expect(parentOf(rows, i)?.name).toBe('turn assistant_streaming');
  }
  const clock = rows.findIndex((r) => r.name === 'demo::clock');
  expect(rows[clock]).toMatchObject({ role: 'tool', status: 'ok' });
  // The function's own span under the orchestrator's span of the call, under the turn's state.
  const call = rows.findIndex((r) => r.name === 'execute_tool demo::clock');
  expect(parentOf(rows, clock)?.name).toBe('execute_tool demo::clock');
  expect(parentOf(rows, call)?.name).toBe('turn function_execute');
  const note = rows.findIndex((r) => r.name === 'demo::save_note');
  expect(rows[note]).toMatchObject({ role: 'tool', status: 'ok' });
  // Every step hangs under the turn's first one: nothing of the turn floats at the top level but
  // the roots of its traces (the send, and the approval that resumed it).
  const roots = rows.filter((r) => r.depth === 0 && r.kind === 'span').map((r) => r.name);
  expect(roots[0]).toBe('harness::send');
  expect(roots.every((name) => name === 'harness::send' || name === 'approval::resolve')).toBe(true);

  // The wait sits right under the hold that opened it, and says how it ended.
  const wait = rows.findIndex((r) => r.kind === 'wait');
  expect(rows[wait]).toMatchObject({ function_id: 'demo::save_note', decision: 'allow' });
  expect(rows[wait - 1]).toMatchObject({ name: 'approval::hold', depth: rows[wait]!.depth });
  expect(rows.filter((r) => r.kind === 'wait')).toHaveLength(1);

  // Errors keep their message (the demo has no key to fetch: auth::get_token answers not_found).
  const failed = rows.filter((r) => r.status === 'error');
  expect(failed.length).toBeGreaterThan(0);
  expect(failed.every((r) => typeof r.error === 'string' && r.error.length > 0)).toBe(true);
});

test('trace <session> prints the waterfall: nesting, durations, errors and the wait', async () => {
  await sessionTrace();
  const result = await run('trace', sessionId);
  expect(result.code).toBe(0);
  const out = result.stdout;
  expect(out).toMatch(new RegExp(`^Session ${sessionId} · 1 turn · \\d+ traces? · \\d+ spans$`, 'm'));
  expect(out).toMatch(new RegExp(`^Turn ${turnId} · demo/demo-scripted · stopped · .* 1 wait for a person`, 'm'));
  const indent = (name: string) => new RegExp(`^( *)${name.replace(/[:.]/g, '\\$&')} `, 'm').exec(out)?.[1]?.length;
  expect(indent('harness::send')).toBe(0);
  expect(indent('provider::demo::stream')).toBeGreaterThan(indent('turn assistant_streaming')!);
  expect(indent('demo::clock')).toBeGreaterThan(indent('turn function_execute')!);
  // Each row ends with its duration; the bar is drawn with blocks.
  expect(out).toMatch(/^ +provider::demo::stream +█+[ ≈]*\d+(\.\d+)? (ms|s)/m);
  expect(out).toMatch(/^ +⏸ waiting for a person +.*░+.* \d+(\.\d+)? (ms|s)$/m);
  expect(out).toMatch(/^ +⎿ demo::save_note · allowed$/m);
  expect(out).toMatch(/^ +✖ auth::get_token /m);
  expect(out).toMatch(/^ +⎿ not_found/m);
});

test('trace ls lists the turn; trace <turn> and trace <trace-id> show it; no id shows the latest turn', async () => {
  const turns = await sessionTrace();
  const ls = await run('trace', 'ls', '--json');
  expect(ls.code).toBe(0);
  const listed = JSON.parse(ls.stdout).turns as Array<{ turn_id: string; session_id: string; span_count: number }>;
  expect(listed[0]).toMatchObject({ turn_id: turnId, session_id: sessionId });
  expect(listed[0]!.span_count).toBeGreaterThan(10);
  const table = await run('trace', 'ls');
  expect(table.stdout).toMatch(new RegExp(`${turnId} +${sessionId}`));

  const byTurn = JSON.parse((await run('trace', turnId, '--json')).stdout);
  expect(byTurn.target).toEqual({ kind: 'turn', id: turnId });
  expect(byTurn.turns.map((t: JsonTurn) => t.turn_id)).toEqual([turnId]);

  const traceId = turns[0]!.trace_ids[0]!;
  const byTrace = JSON.parse((await run('trace', traceId, '--json')).stdout);
  expect(byTrace.target).toEqual({ kind: 'trace', id: traceId });
  expect(byTrace.turns[0].trace_ids).toEqual([traceId]);

  const latest = await run('trace');
  expect(latest.code).toBe(0);
  expect(latest.stdout).toMatch(new RegExp(`^Turn ${turnId}`, 'm'));
  expect((await run('trace', turnId, '--logs')).code).toBe(0);
});

test('an id with no spans, or a trace id the engine does not have: one line, exit 2', async () => {
  const unknown = await run('trace', 'no-such-thing');
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/^iii-harness: no session, turn or trace no-such-thing has spans/);
  expect(hasStackTrace(unknown.stderr)).toBe(false);
  const missingTrace = await run('trace', '0123456789abcdef0123456789abcdef');
  expect(missingTrace.code).toBe(2);
  expect(missingTrace.stderr).toMatch(/has no trace 0123456789abcdef0123456789abcdef/);
});
