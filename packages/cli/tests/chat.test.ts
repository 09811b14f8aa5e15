import { CLI_MAIN, cli, DevStack, freePort, tempDir, testEnv } from './helpers/cli.js';
import { count, Tmux } from './helpers/tmux.js';

// The chat in a real pseudo-terminal (tmux) against `iii-harness dev`: the real engine, the real
// workers and the demo provider (scripted, as its own process).
jest.setTimeout(240_000);

const CORE = 'session,models-catalog,auth-credentials,harness,approval-gate,hook-fanout,turn-orchestrator';
const dir = tempDir();
const env = testEnv(dir);
let stack: DevStack;
let tmux: Tmux;

beforeAll(async () => {
  expect((await cli(['init'], { cwd: dir, env })).code).toBe(0);
  stack = new DevStack(dir, await freePort(), env, ['--only', CORE, '--demo']);
  await stack.start();
});

afterAll(async () => {
  tmux?.kill();
  await stack?.stop();
});

beforeEach(() => {
  tmux = new Tmux(120, 50);
  tmux.start(`node ${CLI_MAIN} --url ${stack.url} chat --provider demo`, env);
});

afterEach(() => tmux.kill());

test('a streamed answer appears, and a held call approved with one key press runs once', async () => {
  await tmux.waitFor(/new session \S+ · demo\/demo-scripted/);
  tmux.type('hello from the test');
  tmux.keys('Enter');
  await tmux.waitFor(/Hello! I am the offline demo provider/);
  await tmux.waitFor(/⏺ demo::clock\(\)[\s\S]*⎿ \{"now"/);
  const held = await tmux.waitFor(/Allow demo::save_note\?/);
  expect(count(held, /Allow demo::save_note\?/)).toBe(1);
  expect(count(held, /⏸ demo::save_note/)).toBe(1);

  tmux.keys('a');
  const done = await tmux.waitFor(/── done/);
  expect(done).toMatch(/✔ allowed demo::save_note/);
  // The note was saved exactly once: the first save answers notes: 1, and there is no second result.
  expect(count(done, /⎿ \{"saved":true,"notes":1\}/)).toBe(1);
  expect(count(done, /"saved":true/)).toBe(1);
  expect(done).not.toMatch(/Allow demo::save_note\?/);
  expect(done).toMatch(/Saved\. That is the whole loop/);
  // This stack has no llm-budget: the chat says once that nothing caps spending.
  const noted = await tmux.waitFor(/── done[\s\S]*• no spending caps: the llm-budget worker is not running/);
  expect(count(noted, /no spending caps/)).toBe(1);
});

test('Ctrl-C aborts a long answer, the session shows it aborted, and a second Ctrl-C exits', async () => {
  await tmux.waitFor(/new session (\S+) ·/);
  const sessionId = /new session (\S+) ·/.exec(tmux.screen())![1]!;
  tmux.type('tell me something long');
  tmux.keys('Enter');
  await tmux.waitFor(/## Part 2|Part 2/);
  const pressed = Date.now();
  tmux.keys('C-c');
  const aborted = await tmux.waitFor(/── aborted/);
  const latencyMs = Date.now() - pressed;
  // The scripted answer has 40 parts; it was cut well before the end.
  expect(aborted).not.toMatch(/That was the whole long answer/);
  process.stdout.write(`cli: Ctrl-C → "aborted" on screen in ${latencyMs} ms\n`);

  const shown = await cli(['--url', stack.url, 'sessions', 'show', sessionId], { cwd: dir, env });
  expect(shown.code).toBe(0);
  expect(shown.stdout).toMatch(/last turn \S+: aborted/);
  expect(shown.stdout).toMatch(/stopped here: the turn was aborted/);

  // The first Ctrl-C ended the turn; the next two exit (one arms, the second leaves).
  tmux.keys('C-c');
  const armed = await tmux.waitFor(/Ctrl-C again to exit|resume with `iii-harness chat/);
  if (!/resume with/.test(armed)) tmux.keys('C-c');
  await tmux.waitFor(/resume with `iii-harness chat --session/);
  await tmux.waitFor(/\[exited 0\]/);
});

test('/fork then /tree shows both branches', async () => {
  await tmux.waitFor(/new session/);
  tmux.type('tell me something long');
  tmux.keys('Enter');
  await tmux.waitFor(/Part 1/);
  tmux.keys('Escape');
  await tmux.waitFor(/── aborted/);

  tmux.type('/fork');
  tmux.keys('Enter');
  await tmux.waitFor(/branched before your message 1/);
  tmux.keys('C-u');
  tmux.type('a different question');
  tmux.keys('Enter');
  await tmux.waitFor(/Allow demo::save_note\?/);
  tmux.keys('d');
  tmux.type('not now');
  tmux.keys('Enter');
  await tmux.waitFor(/✖ denied demo::save_note #\d+: not now/);
  await tmux.waitFor(/You said no, so nothing was saved[\s\S]*── done/);

  tmux.type('/tree');
  tmux.keys('Enter');
  const tree = await tmux.waitFor(/Switch to a branch/);
  const drawn = tree.slice(tree.lastIndexOf('Session tree'));
  expect(drawn).toMatch(/├─ ○ you: tell me something long/);
  expect(drawn).toMatch(/└─ ● you: a different question/);
  expect(drawn).toMatch(/← you are here/);
  tmux.keys('Escape');
});

test('slash commands: /help lists them, unknown ones are refused, /quit exits', async () => {
  await tmux.waitFor(/new session/);
  tmux.type('/help');
  tmux.keys('Enter');
  const help = await tmux.waitFor(/\/model \[provider\/model\]/);
  for (const name of [
    '/sessions',
    '/resume',
    '/new',
    '/fork',
    '/tree',
    '/compact',
    '/approve',
    '/mode',
    '/export',
    '/cost',
    '/quit',
  ])
    expect(help).toContain(name);
  tmux.type('/nope');
  tmux.keys('Enter');
  await tmux.waitFor(/unknown command \/nope/);
  tmux.type('/compact');
  tmux.keys('Enter');
  await tmux.waitFor(/compaction is not available: the context-compaction worker is not running/);
  tmux.type('/quit');
  tmux.keys('Enter');
  await tmux.waitFor(/\[exited 0\]/);
});

test('typing while a turn runs steers it; Alt-Enter writes a second line', async () => {
  await tmux.waitFor(/new session/);
  tmux.type('first line');
  tmux.keys('M-Enter');
  tmux.type('second line');
  tmux.keys('Enter');
  await tmux.waitFor(/❯ first line\n {2}second line/);
  await tmux.waitFor(/Allow demo::save_note\?/);
  // The turn is parked on the held call: this message goes to it, not to a new turn.
  tmux.type('steer: be brief');
  tmux.keys('Enter');
  await tmux.waitFor(/❯ steer: be brief {2}\(sent to the running turn\)/);
  tmux.keys('a');
  // After the held call, the turn reads its inbox and answers the steering message.
  await tmux.waitFor(/You said: steer: be brief/);
  expect(count(tmux.screen(), /── done/)).toBe(0);
  tmux.keys('Escape');
  await tmux.waitFor(/── aborted/);
});
