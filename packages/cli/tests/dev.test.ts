import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import {
  CLI_MAIN,
  cli,
  DevStack,
  eventually,
  freePort,
  hasStackTrace,
  tempDir,
  testEnv,
  writeFile,
} from './helpers/cli.js';
import { Tmux } from './helpers/tmux.js';

// `iii-harness dev`: a quiet start, logs in files, a one-line error when it cannot start, and a
// clean stop on Ctrl-C.
jest.setTimeout(240_000);

const SMALL = 'session,harness,approval-gate';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a taken port: one line, exit 1, nothing started', async () => {
  const dir = tempDir();
  const port = await freePort();
  const squatter: Server = createServer();
  await new Promise<void>((done) => squatter.listen(port, '127.0.0.1', done));
  try {
    const result = await cli(['dev', '--port', String(port), '--http-port', '0'], { cwd: dir, env: testEnv(dir) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `iii-harness: port ${port} is taken (another engine or program is listening there): stop it, or choose another with --port`,
    );
    expect(existsSync(join(dir, '.iii-data', 'stack.json'))).toBe(false);
  } finally {
    squatter.close();
  }
});

test('a worker that cannot start: one line naming it and its log, exit 1, everything stopped', async () => {
  const dir = tempDir();
  writeFile(dir, 'config.yaml', 'harness:\n  no_such_setting: 1\n');
  const port = await freePort();
  const result = await cli(['dev', '--port', String(port), '--http-port', '0', '--only', SMALL], {
    cwd: dir,
    env: testEnv(dir),
  });
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines.at(-1)).toMatch(
    /^iii-harness: worker harness could not start: .*invalid config for harness.*no_such_setting.* \(log: \.iii-data\/logs\/harness\.log\)$/,
  );
  expect(hasStackTrace(result.stderr)).toBe(false);
  // Nothing left running: the port is free again.
  const probe = createServer();
  await new Promise<void>((done, fail) => {
    probe.once('error', fail);
    probe.listen(port, '127.0.0.1', done);
  });
  probe.close();
});

test("the console's port taken: one line naming the fix, exit 1, nothing started", async () => {
  const dir = tempDir();
  const consolePort = await freePort();
  const squatter: Server = createServer();
  await new Promise<void>((done) => squatter.listen(consolePort, '127.0.0.1', done));
  try {
    const args = ['dev', '--port', String(await freePort()), '--http-port', '0', '--only', 'session,console'];
    const result = await cli([...args, '--console-port', String(consolePort)], { cwd: dir, env: testEnv(dir) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `iii-harness: port ${consolePort} of the web console is taken (another \`iii-harness dev\`, or another program): choose another with --console-port (0 = any free port), or leave the console out with --only`,
    );
    expect(existsSync(join(dir, '.iii-data', 'stack.json'))).toBe(false);
  } finally {
    squatter.close();
  }
});

test('--console-port 0: the console takes a free port, dev prints it, and open finds it on the bus', async () => {
  const dir = tempDir();
  const env = testEnv(dir, { NO_COLOR: '1' });
  const stack = new DevStack(dir, await freePort(), env, [
    '--only',
    'session,console',
    '--memory',
    '--console-port',
    '0',
  ]);
  try {
    const output = await stack.start();
    const url = /Console\s+(http:\/\/127\.0\.0\.1:(\d+)\/?)/.exec(output);
    expect(url).not.toBeNull();
    expect(Number(url![2])).not.toBe(3113);
    const open = await cli(['open', '--print', '--url', stack.url], { cwd: dir, env });
    expect(open.code).toBe(0);
    expect(open.stdout.trim().replace(/\/$/, '')).toBe(url![1]!.replace(/\/$/, ''));
  } finally {
    await stack.stop();
  }
});

describe('a running stack', () => {
  const dir = tempDir();
  const env = testEnv(dir);
  let stack: DevStack;

  beforeAll(async () => {
    expect((await cli(['init'], { cwd: dir, env })).code).toBe(0);
    stack = new DevStack(dir, await freePort(), env, ['--only', SMALL, '--memory']);
    await stack.start();
  });

  afterAll(async () => {
    await stack.stop();
  });

  test('logs go to files; `logs` shows them, `logs <worker>` one of them', async () => {
    const all = await cli(['logs', '-n', '200'], { cwd: dir, env });
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/\[harness\] worker ready/);
    expect(all.stdout).toMatch(/\[engine\]/);
    const one = await cli(['logs', 'harness', '--raw'], { cwd: dir, env });
    // --raw: the lines as the worker wrote them (pino JSON, plus iii-sdk's own console lines).
    const ready = one.stdout.split('\n').find((line) => line.includes('worker ready'));
    expect(JSON.parse(ready!)).toMatchObject({ worker: 'harness', msg: 'worker ready' });
    expect(one.stdout).not.toMatch(/\[session\]|"worker":"session"/);
    const unknown = await cli(['logs', 'nope'], { cwd: dir, env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no log for "nope" \(have: .*harness/);
  });

  test('a second dev on the same data dir is refused', async () => {
    const second = await cli(['dev', '--port', String(await freePort()), '--http-port', '0'], { cwd: dir, env });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/an `iii-harness dev` is already running on this data dir \(pid \d+/);
  });

  test('Ctrl-C stops every process and exits 0', async () => {
    const file = JSON.parse(readFileSync(join(stack.dataDir, 'stack.json'), 'utf8')) as {
      processes: Array<{ name: string; pid: number }>;
    };
    expect(file.processes.map((p) => p.name).sort()).toEqual(['approval-gate', 'engine', 'harness', 'session']);
    expect(file.processes.every((p) => alive(p.pid))).toBe(true);
    expect(await stack.stop()).toBe(0);
    expect(file.processes.filter((p) => alive(p.pid))).toEqual([]);
    expect(existsSync(join(stack.dataDir, 'stack.json'))).toBe(false);
  });
});

test('closing the terminal under `dev --chat` stops every process it started', async () => {
  const dir = tempDir();
  const env = testEnv(dir);
  const tmux = new Tmux(120, 40);
  try {
    const workers = `${SMALL},models-catalog,turn-orchestrator,hook-fanout,auth-credentials`;
    tmux.start(
      `node ${CLI_MAIN} dev --memory --port ${await freePort()} --http-port 0 --only ${workers} --demo --chat --provider demo`,
      env,
      dir,
    );
    await tmux.waitFor(/new session \S+ · demo\/demo-scripted/, 120_000);
    const file = JSON.parse(readFileSync(join(dir, '.iii-data', 'stack.json'), 'utf8')) as {
      pid: number;
      processes: Array<{ pid: number }>;
    };
    const pids = [file.pid, ...file.processes.map((p) => p.pid)];
    expect(pids.every(alive)).toBe(true);
    tmux.kill();
    await eventually(() => expect(pids.filter(alive)).toEqual([]), 30_000, 200);
  } finally {
    tmux.kill();
  }
});
