import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { cli, eventually, freePort, hasStackTrace, tempDir, testEnv, writeFile } from './helpers/cli.js';

// `iii-harness open`: finds the console's address, checks that something answers there, and hands
// it to the platform's opener (a stand-in xdg-open on PATH records what it was given).

const dir = tempDir();
const bin = join(dir, 'bin');
const noOpener = join(dir, 'empty-bin');
const opened = join(dir, 'opened.txt');
let server: Server;
let consoleUrl = '';

beforeAll(async () => {
  mkdirSync(bin);
  mkdirSync(noOpener);
  writeFile(bin, 'xdg-open', `#!/bin/sh\nprintf '%s\\n' "$@" >> '${opened}'\n`);
  chmodSync(join(bin, 'xdg-open'), 0o755);
  // Something answering where the console would: a page, or a page that wants its token (401).
  server = createServer((req, res) => res.writeHead(req.url === '/' ? 200 : 401).end('console'));
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  consoleUrl = `http://127.0.0.1:${port}/`;
});

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
});

const env = (path: string, extra: NodeJS.ProcessEnv = {}) => {
  const base = testEnv(dir, extra);
  delete base.BROWSER;
  return { ...base, PATH: path };
};

test("opens the console's address with the platform opener", async () => {
  const result = await cli(['open', '--console-url', consoleUrl], { cwd: dir, env: env(bin) });
  expect(result).toMatchObject({ code: 0, stderr: '' });
  expect(result.stdout).toBe(`opening ${consoleUrl}\n`);
  await eventually(() => expect(readFileSync(opened, 'utf8')).toBe(`${consoleUrl}\n`));
});

test('IIH_CONSOLE_URL names the address; --print only prints it; $BROWSER comes first', async () => {
  const printed = await cli(['open', '--print'], { cwd: dir, env: env(bin, { IIH_CONSOLE_URL: consoleUrl }) });
  expect(printed).toMatchObject({ code: 0, stdout: `${consoleUrl}\n` });
  const browser = join(dir, 'browser.txt');
  writeFile(bin, 'my-browser', `#!/bin/sh\nprintf '%s\\n' "$1" > '${browser}'\n`);
  chmodSync(join(bin, 'my-browser'), 0o755);
  const viaBrowser = await cli(['open', '--console-url', consoleUrl], {
    cwd: dir,
    env: { ...env(bin), BROWSER: join(bin, 'my-browser') },
  });
  expect(viaBrowser.code).toBe(0);
  await eventually(() => expect(readFileSync(browser, 'utf8')).toBe(`${consoleUrl}\n`));
});

test('without an opener it prints the address and says so', async () => {
  const result = await cli(['open', '--console-url', consoleUrl], { cwd: dir, env: env(noOpener) });
  expect(result.code).toBe(0);
  expect(result.stdout).toBe(`${consoleUrl}\n`);
  expect(result.stderr).toMatch(/no browser opener found here/);
});

test('nothing answering: the address, one line saying the console is not running, exit 1; nothing opened', async () => {
  const before = existsSync(opened) ? readFileSync(opened, 'utf8') : '';
  const port = await freePort();
  const result = await cli(['open', '--console-url', `http://127.0.0.1:${port}`], { cwd: dir, env: env(bin) });
  expect(result.code).toBe(1);
  expect(result.stdout).toBe(`http://127.0.0.1:${port}/\n`);
  expect(result.stderr).toMatch(
    new RegExp(`^iii-harness: nothing answers at http://127\\.0\\.0\\.1:${port}/: the console is not running`),
  );
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(existsSync(opened) ? readFileSync(opened, 'utf8') : '').toBe(before);

  const bad = await cli(['open', '--console-url', 'ftp://x'], { cwd: dir, env: env(bin) });
  expect(bad.code).toBe(2);
  expect(hasStackTrace(bad.stderr)).toBe(false);
});
