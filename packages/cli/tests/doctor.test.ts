import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cli, DevStack, eventually, freePort, tempDir, testEnv } from './helpers/cli.js';

// `doctor` and `status` on a stack started in an empty directory: no policy file, no API key.
jest.setTimeout(240_000);

const CORE = 'session,models-catalog,auth-credentials,harness,approval-gate,hook-fanout,turn-orchestrator';
const dir = tempDir();
const env = testEnv(dir);
let stack: DevStack;
let table: string;
const run = (...args: string[]) => cli(['--url', stack.url, ...args], { cwd: dir, env });

beforeAll(async () => {
  stack = new DevStack(dir, await freePort(), env, ['--only', `${CORE},provider-anthropic`]);
  table = await stack.start();
});

afterAll(async () => {
  await stack?.stop();
});

test('dev says what is missing in its status table', () => {
  expect(table).toMatch(/✔ +harness/);
  expect(table).toMatch(/✖ +anthropic +no API key → set ANTHROPIC_API_KEY, or run `iii-harness auth set anthropic`/);
  expect(table).toMatch(/none loaded: agents are denied every call → run `iii-harness init`/);
});

test('doctor reports a missing key and a missing policy, each with the fix, and exits 1', async () => {
  const result = await run('doctor');
  expect(result.code).toBe(1);
  expect(result.stdout).toMatch(
    /! provider anthropic +no API key\n +→ set ANTHROPIC_API_KEY, or run `iii-harness auth set anthropic`/,
  );
  expect(result.stdout).toMatch(
    /✖ policy file +missing: .*iii-permissions\.yaml; agents are denied every call\n +→ run `iii-harness init`/,
  );
  expect(result.stdout).toMatch(
    /✖ policy loaded +no valid policy: agents are denied every call\n +→ run `iii-harness init`/,
  );
  expect(result.stdout).toMatch(/✖ usable provider +no provider can answer/);
  expect(result.stdout).toMatch(/✔ workers/);

  const json = JSON.parse((await run('doctor', '--json')).stdout) as {
    ok: boolean;
    checks: Array<{ name: string; status: string; fix?: string }>;
  };
  expect(json.ok).toBe(false);
  expect(json.checks.find((c) => c.name === 'provider anthropic')).toMatchObject({ status: 'warn' });
});

test('after init and auth set, doctor is satisfied (the harness reloads the policy; the vault file is 0600)', async () => {
  expect((await cli(['init'], { cwd: dir, env })).code).toBe(0);
  const stored = await cli(['--url', stack.url, 'auth', 'set', 'anthropic'], {
    cwd: dir,
    env,
    input: 'sk-ant-test-0123456789\n',
  });
  expect(stored.code).toBe(0);
  expect(stored.stdout).toMatch(/stored the key for anthropic/);
  const vault = join(dir, '.iii', 'credentials.json');
  expect(existsSync(vault)).toBe(true);
  expect(statSync(vault).mode & 0o777).toBe(0o600);
  expect(stored.stdout + stored.stderr).not.toContain('sk-ant-test');

  const result = await eventually(
    async () => {
      const again = await run('doctor');
      if (again.code !== 0) throw new Error(again.stdout);
      return again;
    },
    30_000,
    500,
  );
  expect(result.stdout).toMatch(/✔ provider anthropic +key from stored/);
  expect(result.stdout).toMatch(/✔ policy loaded/);

  const keys = await run('auth', 'status');
  expect(keys.stdout).toMatch(/✔ +anthropic +key from stored/);
  const status = await run('status');
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(/✔ loaded/);
  // This stack has no llm-budget: status says there are no caps, and why.
  expect(status.stdout).toMatch(/Budgets\n +! no spending caps: the llm-budget worker is not running/);
  expect(JSON.parse((await run('status', '--json')).stdout).budgets).toBeNull();
});

test('auth set refuses a provider that is not registered', async () => {
  const result = await cli(['--url', stack.url, 'auth', 'set', 'nope'], { cwd: dir, env, input: 'x'.repeat(20) });
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/provider nope is not registered/);
});
