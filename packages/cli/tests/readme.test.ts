import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLI_MAIN, cli, eventually, freePort, tempDir, testEnv } from './helpers/cli.js';
import { Tmux } from './helpers/tmux.js';

// A new user's path: the root README's first screen and its 60-second tour, run as written
// (`npx iii-harness` is this package's built CLI) in an empty directory, with no API key.
jest.setTimeout(300_000);

const ROOT = resolve(__dirname, '../../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The tour's command lines, without their comments. */
function tourLines(): string[] {
  const block = /<!-- tour -->\s*```sh\n([\s\S]*?)```\s*<!-- \/tour -->/.exec(README);
  if (!block) throw new Error('README has no <!-- tour --> block');
  return block[1]!
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

/** `npx iii-harness a "b c" d` → ['a', 'b c', 'd'] (the tour uses plain words and double quotes). */
function argsOf(line: string): string[] {
  const rest = line.replace(/^npx iii-harness\s+/, '').replace(/\s*&$/, '');
  return [...rest.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

test('the first screen says what `npm start` does, and start-stack runs `iii-harness dev --chat`', () => {
  expect(README).toMatch(
    /npm ci && npm start +# build, start the harness \(dev engine \+ every worker\), and open a chat/,
  );
  const startStack = readFileSync(join(ROOT, 'tools/start-stack.mjs'), 'utf8');
  expect(startStack).toMatch(/devArgs\.push\('--chat'\)/);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  expect(manifest.scripts.start).toMatch(/node tools\/start-stack\.mjs/);
});

test('the tour, line by line', async () => {
  const lines = tourLines();
  expect(lines.length).toBeGreaterThanOrEqual(8);
  const dir = tempDir('iih-tour-');
  const port = await freePort();
  const env = testEnv(dir, { III_URL: `ws://127.0.0.1:${port}` });
  const values: Record<string, string> = {};
  const fill = (args: string[]) =>
    args.map((a) => a.replace(/<([a-z-]+)>/g, (_, key: string) => values[key] ?? `<${key}>`));
  let dev: ReturnType<typeof spawn> | undefined;
  let tmux: Tmux | undefined;

  try {
    for (const line of lines) {
      expect(line.startsWith('npx iii-harness ')).toBe(true);
      const args = fill(argsOf(line));
      const [command] = args;

      if (line.endsWith('&')) {
        // `dev --demo &`: in the background until the end of the tour (the HTTP trigger port is
        // left to the system: 3111 may be taken on a shared machine).
        let output = '';
        dev = spawn(process.execPath, [CLI_MAIN, ...args, '--http-port', '0'], {
          cwd: dir,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        for (const stream of [dev.stdout, dev.stderr]) stream?.on('data', (c) => (output += String(c)));
        await eventually(
          () => {
            if (!output.includes('Ready.')) throw new Error(`dev not ready:\n${output}`);
          },
          120_000,
          200,
        );
        expect(output).toMatch(/✔ +demo +scripted answers/);
        continue;
      }

      if (command === 'chat') {
        tmux?.kill();
        tmux = new Tmux(120, 50);
        tmux.start(`node ${CLI_MAIN} ${args.join(' ')}`, env);
        if (args.includes('--session')) {
          await tmux.waitFor(/session \S+ · demo\/demo-scripted/);
          await tmux.waitFor(/❯ hi again/);
          tmux.type('/quit');
          tmux.keys('Enter');
        } else {
          await tmux.waitFor(/new session/);
          tmux.type('hi');
          tmux.keys('Enter');
          await tmux.waitFor(/Allow demo::save_note\?/);
          tmux.keys('a');
          await tmux.waitFor(/── done/);
          tmux.keys('C-c');
          await tmux.waitFor(/Ctrl-C again to exit/);
          tmux.keys('C-c');
        }
        await tmux.waitFor(/\[exited 0\]/);
        continue;
      }

      const result = await cli(args, { cwd: dir, env });
      const said = `${result.stdout}${result.stderr}`;
      switch (command) {
        case 'init':
          expect(result.code).toBe(0);
          expect(said).toMatch(/wrote config\.yaml[\s\S]*wrote iii-permissions\.yaml/);
          break;
        case 'send':
          expect(result.code).toBe(4);
          values['call-id'] = /approve allow (\S+)`/.exec(result.stderr)![1]!;
          break;
        case 'approve':
          expect(result.code).toBe(0);
          if (args[1] === 'ls') expect(result.stdout).toContain(values['call-id']);
          else expect(result.stdout).toMatch(/allowed demo::save_note/);
          break;
        case 'sessions':
          expect(result.code).toBe(0);
          values['session-id'] = /^(\S+) .*Saved\. That is the whole/m.exec(result.stdout)?.[1] ?? '';
          expect(values['session-id']).not.toBe('');
          break;
        case 'doctor':
          // Only the demo can answer: doctor says how to add a real provider, and exits 1.
          expect(result.code).toBe(1);
          expect(said).toMatch(/✔ policy loaded/);
          expect(said).toMatch(/✖ usable provider +no provider can answer/);
          break;
        default:
          throw new Error(`the tour has a command this test does not know: ${line}`);
      }
    }
  } finally {
    tmux?.kill();
    if (dev && dev.exitCode === null) {
      const exited = new Promise((done) => dev!.once('exit', done));
      dev.kill('SIGINT');
      await exited;
    }
  }
});

test('npm start on a terminal, first run, no key: starter files, dev, a chat that offers the demo; leaving stops everything', async () => {
  const dir = tempDir('iih-start-');
  const port = await freePort();
  const env = testEnv(dir, { III_URL: `ws://127.0.0.1:${port}` });
  const tmux = new Tmux(120, 50);
  try {
    tmux.start(
      `node ${join(ROOT, 'tools/start-stack.mjs')} --memory --http-port 0 --only session,models-catalog,auth-credentials,harness,approval-gate,hook-fanout,turn-orchestrator,provider-anthropic`,
      env,
      dir,
    );
    await tmux.waitFor(/wrote config\.yaml[\s\S]*wrote iii-permissions\.yaml/);
    await tmux.waitFor(
      /no provider can answer yet \(anthropic: set ANTHROPIC_API_KEY, or run `iii-harness auth set anthropic`\)/,
      120_000,
    );
    await tmux.waitFor(/Try the offline demo instead\?/);
    tmux.keys('y');
    tmux.keys('Enter');
    await tmux.waitFor(/new session \S+ · demo\/demo-scripted/);
    tmux.type('hi');
    tmux.keys('Enter');
    await tmux.waitFor(/Allow demo::save_note\?/);
    tmux.keys('a');
    await tmux.waitFor(/── done/);
    tmux.keys('C-c');
    await tmux.waitFor(/Ctrl-C again to exit/);
    tmux.keys('C-c');
    await tmux.waitFor(/\[exited 0\]/, 60_000);
    // Everything `dev` started is gone: the engine's port is free again.
    await eventually(() =>
      execFileSync(process.execPath, [
        '-e',
        `require('net').createServer().listen(${port},'127.0.0.1',function(){this.close()})`,
      ]),
    );
  } finally {
    tmux.kill();
  }
});
