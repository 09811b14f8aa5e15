import { cli, freePort, hasStackTrace, tempDir, testEnv } from './helpers/cli.js';

// Bad input, with no engine at all: each case is one line on stderr, a non-zero exit, no stack.
jest.setTimeout(120_000);

const dir = tempDir();
const env = testEnv(dir);
let deadUrl: string;

beforeAll(async () => {
  deadUrl = `ws://127.0.0.1:${await freePort()}`;
});

const cases: Array<[string, string[], number, RegExp]> = [
  ['an unknown command', ['bogus'], 2, /unknown command 'bogus'/],
  ['an unknown flag', ['sessions', 'ls', '--bogus'], 2, /unknown option '--bogus'/],
  ['a missing argument', ['approve', 'allow'], 2, /missing required argument/],
  ['a bad number', ['dev', '--port', 'abc'], 2, /--port must be a whole number/],
  ['an unknown worker', ['dev', '--only', 'nope'], 2, /unknown worker\(s\): nope/],
  ['chat without a terminal', ['chat'], 2, /chat needs a terminal/],
];

test.each(cases)('%s', async (_name, args, code, message) => {
  const result = await cli(args, { cwd: dir, env });
  expect(result.code).toBe(code);
  expect(result.stderr).toMatch(message);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(hasStackTrace(result.stderr)).toBe(false);
});

test.each([
  ['sessions'],
  ['sessions', 'show', 'abc'],
  ['send', 'hi', '--wait'],
  ['models'],
  ['approve', 'ls'],
  ['status'],
])('engine not running: %s', async (...args) => {
  const result = await cli(['--url', deadUrl, ...args], { cwd: dir, env });
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toBe(
    `iii-harness: the engine is not running at ${deadUrl}: start it with \`iii-harness dev\` (or pass --url / set III_URL)`,
  );
});

test('--help on every command, exit 0', async () => {
  for (const command of [
    [],
    ['init'],
    ['dev'],
    ['chat'],
    ['send'],
    ['sessions'],
    ['sessions', 'export'],
    ['approve'],
    ['approve', 'deny'],
    ['models'],
    ['status'],
    ['doctor'],
    ['logs'],
    ['auth', 'set'],
  ]) {
    const result = await cli([...command, '--help'], { cwd: dir, env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: iii-harness/);
  }
});

test('colour only when asked for: NO_COLOR wins, a pipe is plain', async () => {
  const ansi = new RegExp(String.fromCharCode(27));
  const forced = await cli(['init', '--dir', tempDir()], { cwd: dir, env: { ...env, FORCE_COLOR: '1' } });
  expect(forced.stdout).toMatch(ansi);
  const noColor = await cli(['init', '--dir', tempDir()], {
    cwd: dir,
    env: { ...env, FORCE_COLOR: '1', NO_COLOR: '1' },
  });
  expect(noColor.stdout).not.toMatch(ansi);
  const piped = await cli(['init', '--dir', tempDir()], { cwd: dir, env });
  expect(piped.stdout).not.toMatch(ansi);
});
