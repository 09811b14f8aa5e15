import { contracts } from '@iii-harness/types';
import { HarnessClient } from '../src/client.js';
import { CLI_MAIN, cli, DevStack, freePort, hasStackTrace, tempDir, testEnv } from './helpers/cli.js';
import { Tmux } from './helpers/tmux.js';

// Budgets in the CLI against `iii-harness dev` with llm-budget: `budget` manages caps, spend
// comes from real reservations settled through llm-budget (priced by the real catalog), and
// `status`, the chat after each turn and `/cost` say what is spent and left per scope.
jest.setTimeout(300_000);

const STACK = 'session,models-catalog,auth-credentials,harness,approval-gate,hook-fanout,turn-orchestrator,llm-budget';
const dir = tempDir();
const env = testEnv(dir);
let stack: DevStack;
let client: HarnessClient;
const run = (...args: string[]) => cli(['--url', stack.url, ...args], { cwd: dir, env });

beforeAll(async () => {
  expect((await cli(['init'], { cwd: dir, env })).code).toBe(0);
  stack = new DevStack(dir, await freePort(), env, ['--only', STACK, '--demo', '--memory']);
  await stack.start();
  client = await HarnessClient.connect(stack.url);
  // A priced model: $3 in / $15 out per million tokens.
  await client.bus.call(contracts.models.reconcile, {
    provider: 'pricey',
    models: [
      {
        id: 'p-1',
        provider: 'pricey',
        context_window: 100_000,
        max_output_tokens: 4_096,
        capabilities: ['tools', 'streaming'],
        pricing: { input: 3, output: 15, cache_read: 0, cache_write: 0 },
      },
    ],
  });
});

afterAll(async () => {
  await client?.close();
  await stack?.stop();
});

/** One provider call as the orchestrator makes it: reserve the worst case, then commit the usage. */
async function spend(scopes: { workspace_id?: string }, input: number, output: number, maxOutput = 1_024) {
  const reserved = await client.bus.call(contracts.budget.reserve, {
    scopes,
    provider: 'pricey',
    model: 'p-1',
    input_tokens: input,
    max_output_tokens: maxOutput,
  });
  expect(reserved.status).toBe('reserved');
  if (reserved.status !== 'reserved') return;
  await client.bus.call(contracts.budget.commit, {
    reservation_id: reserved.reservation_id,
    usage: { input_tokens: input, output_tokens: output, cache_read_tokens: 0, cache_write_tokens: 0 },
  });
}

let workspaceBudget = '';

test('create, list, show, change: amounts in dollars, spend and what is left from real settlements', async () => {
  const empty = await run('budget');
  expect(empty.code).toBe(0);
  expect(empty.stdout).toMatch(/^No budgets: calls are not capped/);

  const created = await run(
    'budget',
    'create',
    '--workspace',
    'acme',
    '--usd',
    '5',
    '--period',
    'day',
    '--name',
    'team',
    '--json',
  );
  expect(created.code).toBe(0);
  const budget = JSON.parse(created.stdout).budget;
  expect(budget).toMatchObject({ scope: { kind: 'workspace', id: 'acme' }, period: 'day', cap_micro_usd: 5_000_000 });
  workspaceBudget = budget.budget_id;

  // 1000 in × $3/M + 500 out × $15/M = $0.0105.
  await spend({ workspace_id: 'acme' }, 1_000, 500);
  const usage = JSON.parse((await run('budget', 'usage', '--workspace', 'acme', '--json')).stdout).usage;
  expect(usage).toEqual([
    expect.objectContaining({ budget_id: workspaceBudget, spent_micro_usd: 10_500, remaining_micro_usd: 4_989_500 }),
  ]);

  const ls = await run('budget', 'ls');
  expect(ls.stdout).toMatch(
    new RegExp(`✔ +${workspaceBudget} +workspace:acme +day \\S+ +\\$5\\.00 +\\$0\\.0105 +\\$4\\.9895 +team`),
  );
  const show = await run('budget', 'show', workspaceBudget);
  expect(show.code).toBe(0);
  expect(show.stdout).toMatch(/cap +\$5\.00 a day/);
  expect(show.stdout).toMatch(/now +✔ \$0\.0105 spent · \$4\.9895 left of \$5\.00 today/);
  expect(show.stdout).toMatch(/forecast +\$\S+ by the end of the period/);

  const changed = await run('budget', 'set', workspaceBudget, '--usd', '0.02', '--alerts', '50,90');
  expect(changed.code).toBe(0);
  expect(changed.stdout).toMatch(/\$0\.02 today for workspace:acme/);
  const shown = JSON.parse((await run('budget', 'show', workspaceBudget, '--json')).stdout);
  expect(shown.budget).toMatchObject({ cap_micro_usd: 20_000, alert_thresholds_pct: [50, 90] });
  expect(shown.usage).toMatchObject({ spent_micro_usd: 10_500, remaining_micro_usd: 9_500 });
  // Past 80 % of the cap the mark turns to a warning (2000 in = $0.006, a one-token worst case).
  expect((await run('budget', 'ls')).stdout).toMatch(new RegExp(`✔ +${workspaceBudget}`));
  await spend({ workspace_id: 'acme' }, 2_000, 0, 1);
  expect((await run('budget', 'ls')).stdout).toMatch(new RegExp(`! +${workspaceBudget}`));
});

test('bad input: one line, exit 2, nothing created or changed', async () => {
  const before = (await run('budget', 'ls', '--json')).stdout;
  for (const args of [
    ['budget', 'create', '--usd', '5'],
    ['budget', 'create', '--workspace', 'a', '--session', 'b', '--usd', '5'],
    ['budget', 'create', '--workspace', 'a'],
    ['budget', 'create', '--workspace', 'a', '--usd', '0.0000001'],
    ['budget', 'create', '--workspace', 'a', '--usd', 'lots'],
    ['budget', 'create', '--workspace', 'a', '--tokens', '1.5'],
    ['budget', 'create', '--workspace', 'a', '--usd', '5', '--period', 'year'],
    ['budget', 'create', '--workspace', 'a', '--usd', '5', '--alerts', '50,150'],
    ['budget', 'create', '--workspace', 'a b', '--usd', '5'],
    ['budget', 'create', '--workspace', 'a', '--usd', '5', '--tz', 'Mars/Base'],
    ['budget', 'set', workspaceBudget],
    ['budget', 'set', 'no-such-budget', '--usd', '1'],
    ['budget', 'show', 'no-such-budget'],
    ['budget', 'rm', 'no-such-budget'],
  ]) {
    const result = await run(...args);
    expect({ args, code: result.code }).toEqual({ args, code: 2 });
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^iii-harness: /);
    expect(hasStackTrace(result.stderr)).toBe(false);
  }
  expect((await run('budget', 'ls', '--json')).stdout).toBe(before);
});

test('status shows spend and what is left per scope', async () => {
  const status = await run('status');
  expect(status.code).toBe(0);
  expect(status.stdout).toMatch(
    /Budgets\n +! +workspace:acme +\$0\.0165 spent · \$0\.0035 left of \$0\.02 today +team/,
  );
  const json = JSON.parse((await run('status', '--json')).stdout);
  expect(json.budgets).toEqual([
    expect.objectContaining({ budget: expect.objectContaining({ budget_id: workspaceBudget }) }),
  ]);
});

test('the chat says what the budgets covering the session have left after each turn, and in /cost', async () => {
  const tmux = new Tmux(140, 50);
  try {
    tmux.start(`node ${CLI_MAIN} --url ${stack.url} chat --provider demo`, env);
    const opened = await tmux.waitFor(/new session (\S+) ·/);
    const sessionId = /new session (\S+) ·/.exec(opened)![1]!;
    const own = await run('budget', 'create', '--session', sessionId, '--tokens', '100000', '--period', 'total');
    expect(own.code).toBe(0);
    // Another session's budget does not cover this one: it is not shown.
    expect((await run('budget', 'create', '--session', 'someone-else', '--usd', '1')).code).toBe(0);

    tmux.type('hello');
    tmux.keys('Enter');
    await tmux.waitFor(/Allow demo::save_note\?/);
    tmux.keys('a');
    // The orchestrator reserves and commits each model call: the session's token budget is charged
    // what the turn used (the demo is unpriced, so the USD budget does not move).
    const done = await tmux.waitFor(/• budget this session: \d+ tokens spent · [\d.]+k left of 100k in total/);
    const [, input, output] = /── done · (\d+) in \/ (\d+) out/.exec(done) ?? [];
    const [, spent] = /• budget this session: (\d+) tokens spent/.exec(done) ?? [];
    expect(Number(spent)).toBe(Number(input) + Number(output));
    expect(Number(spent)).toBeGreaterThan(0);
    expect(done).toMatch(/── done[\s\S]*• budget workspace:acme: \$0\.0165 spent · \$0\.0035 left of \$0\.02 today/);
    expect(done).not.toMatch(/someone-else/);

    tmux.type('/cost');
    tmux.keys('Enter');
    const cost = await tmux.waitFor((s) => (s.match(/• budget this session:/g) ?? []).length === 2);
    expect(cost).toMatch(/This session: 1 turn\(s\)[\s\S]*• budget workspace:acme/);
  } finally {
    tmux.kill();
  }
});

test('rm deletes a budget', async () => {
  const removed = await run('budget', 'rm', workspaceBudget);
  expect(removed.code).toBe(0);
  expect(removed.stdout).toMatch(`deleted budget ${workspaceBudget}`);
  expect((await run('budget', 'ls')).stdout).not.toMatch(workspaceBudget);
});
