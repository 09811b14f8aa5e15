import { CLI_MAIN, cli, DevStack, freePort, tempDir, testEnv } from './helpers/cli.js';
import { count, Tmux } from './helpers/tmux.js';

// Kill the engine and every worker (SIGKILL, `dev` included) while a call waits for approval,
// start everything again on the same data dir: the chat reconnects, shows the hold once, and
// approving it completes the turn, with nothing on screen lost or shown twice.
jest.setTimeout(300_000);

const CORE = 'session,models-catalog,auth-credentials,harness,approval-gate,hook-fanout,turn-orchestrator';
const dir = tempDir();
const env = testEnv(dir);
let port: number;
let stack: DevStack;
const tmux = new Tmux(120, 60);

beforeAll(async () => {
  expect((await cli(['init'], { cwd: dir, env })).code).toBe(0);
  port = await freePort();
  stack = new DevStack(dir, port, env, ['--only', CORE, '--demo']);
  await stack.start();
});

afterAll(async () => {
  tmux.kill();
  await stack?.stop();
});

test('the chat survives a restart of everything during a held call', async () => {
  tmux.start(`node ${CLI_MAIN} --url ${stack.url} chat --provider demo`, env);
  await tmux.waitFor(/new session/);
  tmux.type('please save this');
  tmux.keys('Enter');
  await tmux.waitFor(/Allow demo::save_note\?/);

  await stack.killEverything();
  await tmux.waitFor(/engine connection lost/);

  stack = new DevStack(dir, port, env, ['--only', CORE, '--demo']);
  await stack.start();
  const back = await tmux.waitFor(/reconnected/, 60_000);
  expect(back).not.toMatch(/could not catch up/);
  expect(count(back, /Allow demo::save_note\?/)).toBe(1);
  expect(count(back, /⏸ demo::save_note/)).toBe(1);
  expect(back).not.toMatch(/more waiting/);

  tmux.keys('a');
  const done = await tmux.waitFor(/── done/, 60_000);
  expect(done).toMatch(/✔ allowed demo::save_note/);
  expect(count(done, /"saved":true/)).toBe(1);
  expect(done).toMatch(/Saved\. That is the whole loop/);
  // Nothing shown twice: each step of the turn is on screen exactly once.
  expect(count(done, /❯ please save this/)).toBe(1);
  expect(count(done, /Hello! I am the offline demo provider/)).toBe(1);
  expect(count(done, /⏺ demo::clock\(\)/)).toBe(1);
  expect(count(done, /The clock answered/)).toBe(1);
  expect(count(done, /✔ allowed demo::save_note/)).toBe(1);
  expect(count(done, /── done/)).toBe(1);
});
