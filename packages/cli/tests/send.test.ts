import { spawn } from 'node:child_process';
import { agentEvent } from '@iii-harness/types';
import { CLI_MAIN, cli, DevStack, eventually, freePort, hasStackTrace, tempDir, testEnv } from './helpers/cli.js';

// `iii-harness send`: one turn, scriptable. --json prints the turn's agent events as JSON lines;
// the exit code says how the turn ended (0 stopped, 1 failed, 2 bad usage, 3 aborted, 4 waiting
// for approval with --no-wait-approval).
jest.setTimeout(240_000);

const CORE = 'session,models-catalog,auth-credentials,harness,approval-gate,hook-fanout,turn-orchestrator';
const dir = tempDir();
const env = testEnv(dir);
let stack: DevStack;
const run = (...args: string[]) => cli(['--url', stack.url, ...args], { cwd: dir, env });

/** Every line is a JSON agent event (the schema of `agent::events`). */
function parseLines(stdout: string) {
  const lines = stdout.split('\n').filter(Boolean);
  return lines.map((line) => agentEvent.parse(JSON.parse(line)));
}

beforeAll(async () => {
  expect((await cli(['init'], { cwd: dir, env })).code).toBe(0);
  stack = new DevStack(dir, await freePort(), env, ['--only', CORE, '--demo']);
  await stack.start();
});

afterAll(async () => {
  await stack?.stop();
});

test('exit 4 when a call waits for approval; after approving always, the next turn stops with exit 0', async () => {
  const held = await run('send', 'keep this', '--provider', 'demo', '--json', '--no-wait-approval');
  expect(held.code).toBe(4);
  const events = parseLines(held.stdout);
  const sessionId = events[0]!.session_id;
  expect(events.every((e) => e.session_id === sessionId && e.turn_id === events[0]!.turn_id)).toBe(true);
  expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
  // The turn is held, not ended: the request is there and no turn_completed follows it.
  const request = events.findLast((e) => e.type === 'approval_requested')!;
  expect(request).toBeDefined();
  expect(events.some((e) => e.type === 'turn_completed')).toBe(false);
  expect(held.stderr).toMatch(/waiting for approval: demo::save_note/);

  const callId = request.type === 'approval_requested' ? request.function_call_id : '';
  const listed = await run('approve', 'ls', '--json');
  expect(JSON.parse(listed.stdout).pending.map((h: { function_call_id: string }) => h.function_call_id)).toContain(
    callId,
  );
  const allowed = await run('approve', 'allow', callId, '--always');
  expect(allowed.code).toBe(0);
  expect(allowed.stdout).toMatch(/allowed demo::save_note/);

  // Same session: save_note is now always allowed, so this turn runs to its end.
  const next = await run('send', 'and this too', '--session', sessionId, '--json');
  expect(next.code).toBe(0);
  const nextEvents = parseLines(next.stdout);
  expect(nextEvents.some((e) => e.type === 'approval_requested')).toBe(false);
  const end = nextEvents.at(-1)!;
  expect(end).toMatchObject({ type: 'turn_completed', status: 'stopped' });
  // Only this turn's events, none of the first turn's.
  expect(new Set(nextEvents.map((e) => e.turn_id)).size).toBe(1);
  expect(nextEvents[0]!.seq).toBeGreaterThan(events.at(-1)!.seq);
});

test('--wait prints the answer; a failed turn exits 1', async () => {
  const waited = await run('send', 'hello', '--provider', 'demo', '--wait', '--no-wait-approval');
  expect(waited.code).toBe(4);
  // On a pipe the answer is the markdown as written.
  expect(waited.stdout).toMatch(/Hello! I am the \*\*offline demo provider\*\*/);

  const failed = await run('send', 'hello', '--provider', 'demo', '--model', 'no-such-model', '--json');
  expect(failed.code).toBe(1);
  const end = parseLines(failed.stdout).at(-1)!;
  expect(end).toMatchObject({ type: 'turn_completed', status: 'failed' });
});

test('Ctrl-C while following aborts the turn: exit 3', async () => {
  const child = spawn(
    process.execPath,
    [CLI_MAIN, '--url', stack.url, 'send', 'something long please', '--provider', 'demo', '--json'],
    {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  await eventually(() => {
    if (!stdout.includes('"message_update"')) throw new Error('no delta yet');
  });
  child.kill('SIGINT');
  expect(await exited).toBe(3);
  const end = parseLines(stdout).at(-1)!;
  expect(end).toMatchObject({ type: 'turn_completed', status: 'aborted' });
});

test('bad usage exits 2 with one line and no stack trace', async () => {
  for (const args of [
    ['send'],
    ['send', 'x', '--bogus'],
    ['send', 'x', '--session', 'no-such-session'],
    ['send', 'x', '--provider', 'nope'],
  ]) {
    const result = await run(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^iii-harness: /);
    expect(hasStackTrace(result.stderr)).toBe(false);
  }
});
