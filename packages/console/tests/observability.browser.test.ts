import { eventually, startTestWorker, type TestWorker } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { type Browser, openBrowser } from './helpers/browser.js';
import { callStep, type Stack, startStack } from './helpers/stack.js';
import { type Observability, observabilityStandIn, spansOfTurn } from './helpers/stand-ins.js';

/*
 * Traces against a stand-in that answers in the real engine's documented shapes (the dev engine
 * gets engine::traces::* with issue 18; the test moves to it then); budgets against the real
 * llm-budget worker, spend made the way the orchestrator will (reserve, then commit).
 */

jest.setTimeout(240_000);

let stack: Stack;
let browser: Browser;
let observability: Observability;
const standIns: Array<TestWorker<unknown>> = [];

beforeAll(async () => {
  stack = await startStack();
  observability = observabilityStandIn();
  standIns.push(await startTestWorker(observability.spec, { url: stack.engineUrl }));
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
  for (const w of standIns) await w.shutdown();
  await stack?.close();
});

afterEach(async () => {
  if (process.env.CONSOLE_DEBUG_SHOTS)
    await page().screenshot({ path: `/tmp/console-${expect.getState().currentTestName?.replace(/\W+/g, '-')}.png` });
  expect(browser.cspViolations).toEqual([]);
  expect(browser.pageErrors).toEqual([]);
});

const page = () => browser.page;

it("opens a turn's trace from its message and shows the function-call spans and a span's logs", async () => {
  await stack.script(
    { match: 'trace this turn', steps: [callStep('tools::echo', { hello: 'trace' }, 'tr-1')] },
    { match: 'trace this turn', steps: [{ text: 'Echoed.' }] },
  );
  await page().goto(`${stack.consoleUrl}/chat`);
  await page().locator('#composer-input').fill('trace this turn');
  await page().keyboard.press('Enter');
  await page().locator('.transcript').getByText('Echoed.').waitFor({ timeout: 30_000 });
  const sessionId = decodeURIComponent(new URL(page().url()).pathname.split('/')[2]!);
  const events = await eventually(
    async () => {
      const all = await stack.agentEvents(sessionId);
      if (!all.some((e) => e.type === 'turn_completed')) throw new Error('turn not finished');
      return all;
    },
    { timeoutMs: 20_000 },
  );
  const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  observability.add(spansOfTurn(sessionId, events, traceId));
  // The turn's footer links to its trace.
  await page().locator('.turn-line').getByRole('link', { name: 'Trace' }).click();
  await page().waitForURL(new RegExp(`/traces/${traceId}`), { timeout: 20_000 });
  const waterfall = page().locator('.waterfall');
  await waterfall.waitFor();
  await waterfall.getByText('harness::send').waitFor();
  await waterfall.getByText('provider::scripted::stream').waitFor();
  const call = waterfall.locator('.span-row', { hasText: 'tools::echo' });
  await call.waitFor();
  // A span's attributes and logs.
  await call.click();
  await page().locator('.span-detail').getByText('handled tools::echo').waitFor();
  await page().locator('.span-detail').getByText('iii.session.id').waitFor();
});

it('shows new traces as the engine reports them (trace trigger), without a reload', async () => {
  await page().goto(`${stack.consoleUrl}/traces`);
  const groups = page().locator('.trace-groups .list-button');
  await groups.first().waitFor();
  const before = await groups.count();
  observability.add(
    spansOfTurn(
      'late-session',
      [
        {
          type: 'turn_started',
          session_id: 'late-session',
          turn_id: 'late-turn',
          seq: 1,
          timestamp: Date.now(),
          provider: 'scripted',
          model: 'scripted-small',
        },
      ],
      'ffffeeeeddddccccbbbbaaaa99998888',
    ),
  );
  await observability.notify(['ffffeeeeddddccccbbbbaaaa99998888']);
  await eventually(async () => expect(await groups.count()).toBe(before + 1), { timeoutMs: 15_000 });
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
