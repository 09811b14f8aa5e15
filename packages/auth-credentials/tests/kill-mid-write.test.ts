import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { CredentialStore } from '../src/index.js';

/**
 * A writer killed with SIGKILL at any point leaves the old file or the new one, never a partial
 * one. The writer is a real child process running the built store (dist/), writing large tokens
 * in a loop; it is killed while one of its temp files exists, at staggered delays.
 */
const PACKAGE = join(__dirname, '..');
const TOKEN_SIZE = 2_000_000;
const ROUNDS = 5;
const TOKEN = new RegExp(`^(\\d{8}):x{${TOKEN_SIZE}}$`);

function build(dir: string): void {
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.lib.json', '--noCheck'], {
    cwd: dir,
    stdio: 'pipe',
  });
}

let root: string;
beforeAll(() => {
  // The child runs plain node, so the store and what it imports must exist as JavaScript.
  for (const dep of ['types', 'runtime'])
    if (!existsSync(join(PACKAGE, '..', dep, 'dist', 'index.js'))) build(join(PACKAGE, '..', dep));
  build(PACKAGE);
  root = mkdtempSync(join(tmpdir(), 'auth-kill-'));
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Run the writer until it has landed two writes, then wait for its next temp file to appear,
 * wait `delayMs` more (staggered per round, so kills fall early and late in the write), SIGKILL.
 */
async function killDuringWrite(path: string, delayMs: number): Promise<{ lastWrote: number; sawTemp: boolean }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [join(PACKAGE, 'tests', 'fixtures', 'kill-writer.mjs'), path, String(TOKEN_SIZE)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let lastWrote = 0;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [event, index] = line.split(' ');
    if (event === 'wrote') lastWrote = Number(index);
  });
  const ownTemp = `.${basename(path)}.${child.pid}.`;
  const deadline = Date.now() + 20_000;
  let sawTemp = false;
  while (Date.now() < deadline && child.exitCode === null) {
    if (lastWrote < 2) {
      await sleep(5);
      continue;
    }
    if (readdirSync(dirname(path)).some((name) => name.startsWith(ownTemp))) {
      sawTemp = true;
      break;
    }
    await new Promise((resolve) => setImmediate(resolve)); // a write lasts milliseconds: poll tightly
  }
  if (delayMs) await sleep(delayMs);
  child.kill('SIGKILL');
  const signal = await exited;
  if (signal !== 'SIGKILL') throw new Error(`writer ended without being killed (${signal}): ${stderr}`);
  return { lastWrote, sawTemp };
}

it('leaves the old or the new file, never a partial one, when the writer is killed mid-write', async () => {
  const path = join(root, 'vault', 'credentials.json');
  let interruptedFiles = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const { lastWrote, sawTemp } = await killDuringWrite(path, round * 3);
    expect(sawTemp).toBe(true);
    expect(lastWrote).toBeGreaterThanOrEqual(2);
    const file = JSON.parse(readFileSync(path, 'utf8'));
    expect(Object.keys(file)).toEqual(['v', 'providers']);
    expect(Object.keys(file.providers)).toEqual(['big']);
    const index = Number(TOKEN.exec(file.providers.big.token)?.[1]);
    // `wrote N` may not have reached us before the kill, but the file holds write N-1 or N, whole.
    expect([lastWrote, lastWrote + 1]).toContain(index);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    if (readdirSync(dirname(path)).some((name) => name.endsWith('.tmp'))) interruptedFiles++;
  }
  // At least one kill landed while a temp file was being written, so the test saw a real mid-write kill.
  expect(interruptedFiles).toBeGreaterThan(0);

  // The next writer cleans the dead writers' temp files and writes normally.
  const store = new CredentialStore({ path });
  expect(TOKEN.test((await store.get('big'))!.token)).toBe(true);
  await store.set('openai', 'sk-after-the-crash');
  expect(readdirSync(dirname(path))).toEqual(['credentials.json']);
  expect(Object.keys(await store.read()).sort()).toEqual(['big', 'openai']);
}, 60_000);
