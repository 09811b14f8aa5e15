import { eventually } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { type Browser, openBrowser } from './helpers/browser.js';
import { callStep, type Stack, startStack } from './helpers/stack.js';

/*
 * Traces from the real dev engine (every worker exports its spans over /otel); budgets from the
 * real llm-budget worker, spend made the way the orchestrator will (reserve, then commit).
 */

jest.setTimeout(240_000);

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack({ otel: true });
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

afterEach(async () => {
  if (process.env.CONSOLE_DEBUG_SHOTS)
    await page().screenshot({ path: `/tmp/console-${expect.getState().currentTestName?.replace(/\W+/g, '-')}.png` });
  expect(browser.cspViolations).toEqual([]);
  expect(browser.pageErrors).toEqual([]);
});

const page = () => browser.page;

it("opens a turn's trace from its message: the waterfall holds the function-call spans; a span shows its attributes and logs", async () => {
  await stack.script(
    { match: 'trace this turn', steps: [callStep('tools::echo', { hello: 'trace' }, 'tr-1')] },
    { match: 'trace this turn', steps: [{ text: 'Echoed.' }] },
  );
  await page().goto(`${stack.consoleUrl}/chat`);
  await page().locator('#composer-input').fill('trace this turn');
  await page().keyboard.press('Enter');
  await page().locator('.transcript').getByText('Echoed.').waitFor({ timeout: 30_000 });
  const sessionId = decodeURIComponent(new URL(page().url()).pathname.split('/')[2]!);
  // The spans reach the engine in batches: wait until the turn's function call is stored.
  await eventually(
    async () => {
      const { groups } = await stack.client.bus.call(contracts.engine.tracesGroupBy, { attribute: 'iii.session.id' });
      const traceIds = groups.find((g) => g.value === sessionId)?.trace_ids ?? [];
      const trees = await Promise.all(
        traceIds.map((trace_id) => stack.client.bus.call(contracts.engine.tracesTree, { trace_id })),
      );
      expect(JSON.stringify(trees)).toContain('tools::echo');
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  // The turn's footer links to its trace.
  await page().locator('.turn-line').getByRole('link', { name: 'Trace' }).click();
  await page().waitForURL(/\/traces\/[0-9a-f]{32}/, { timeout: 20_000 });
  const waterfall = page().locator('.waterfall');
  await waterfall.waitFor();
  await waterfall.getByText('harness::send', { exact: false }).first().waitFor();
  await waterfall.getByText('provider::scripted::stream', { exact: false }).first().waitFor();
  const call = waterfall.locator('.span-row', { hasText: 'tools::echo' }).first();
  await call.waitFor();
  await call.click();
  const detail = page().locator('.span-detail');
  await detail.getByText('iii.session.id', { exact: true }).waitFor();
  await detail.getByText(sessionId).first().waitFor();
  await detail.locator('h3', { hasText: 'Logs' }).waitFor();
});

it('shows new traces as the engine reports them (trace trigger), without a reload', async () => {
  await page().goto(`${stack.consoleUrl}/traces`);
  const groups = page().locator('.trace-groups .list-button');
  await groups.first().waitFor();
  const before = await groups.count();
  await stack.script({ match: 'another traced turn', steps: [{ text: 'Traced too.' }] });
  await stack.client.bus.call(contracts.harness.send, {
    text: 'another traced turn',
    provider: 'scripted',
    model: 'scripted-small',
  });
  await eventually(async () => expect(await groups.count()).toBe(before + 1), { timeoutMs: 30_000 });
});

it('shows spend and what is left per budget, and re-reads when a budget passes a threshold', async () => {
  const bus = stack.client.bus;
  const team = await bus.call(contracts.budget.create, {
    name: 'Team, monthly',
    scope: { kind: 'workspace', id: 'team' },
    period: 'month',
    cap_micro_usd: 50_000,
    alert_thresholds_pct: [50],
  });
  await bus.call(contracts.budget.create, {
    name: 'Research agent, daily tokens',
    scope: { kind: 'agent', id: 'research' },
    period: 'day',
    cap_tokens: 2_000_000,
    allow_unpriced: true,
  });
  /** One model call as the orchestrator makes it: reserve the worst case, commit what was used. */
  const spend = async (scopes: { workspace_id?: string; agent_id?: string }, input: number, output: number) => {
    const reserved = await bus.call(contracts.budget.reserve, {
      scopes,
      provider: 'scripted',
      model: 'scripted-small',
      input_tokens: input,
      max_output_tokens: output,
    });
    if (reserved.status !== 'reserved') throw new Error(reserved.message);
    await bus.call(contracts.budget.commit, {
      reservation_id: reserved.reservation_id,
      usage: { input_tokens: input, output_tokens: output },
    });
  };
  // scripted-small: $1 / $4 per million tokens → 2,000 in + 1,000 out = $0.006.
  await spend({ workspace_id: 'team' }, 2_000, 1_000);
  await spend({ agent_id: 'research' }, 1_500_000, 370_000);
  await page().goto(`${stack.consoleUrl}/budgets`);
  const teamCard = page().locator('.budget-card', { hasText: 'Team, monthly' });
  await teamCard.getByText('$0.0060 of $0.050', { exact: false }).waitFor({ timeout: 20_000 });
  await teamCard.getByText('Remaining: $0.044').waitFor();
  const agent = page().locator('.budget-card', { hasText: 'Research agent, daily tokens' });
  await agent.getByText('1.87M of 2.00M', { exact: false }).waitFor();
  await agent.getByText('Remaining: 130k tokens').waitFor();
  // Past 50% of the team's cap: llm-budget writes an alert, the console pushes it, the page re-reads.
  await spend({ workspace_id: 'team' }, 5_000, 5_000);
  await page()
    .locator('.toast', { hasText: `Budget ${team.budget.budget_id} passed 50%` })
    .waitFor({ timeout: 20_000 });
  await teamCard.getByText('$0.031 of $0.050', { exact: false }).waitFor({ timeout: 20_000 });
});
