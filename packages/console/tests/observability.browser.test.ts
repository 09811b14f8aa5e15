import { eventually, startTestWorker, type TestWorker } from '@iii-harness/testing';
import { type Browser, openBrowser } from './helpers/browser.js';
import { callStep, type Stack, startStack } from './helpers/stack.js';
import { budgetStandIn, type Observability, observabilityStandIn, spansOfTurn } from './helpers/stand-ins.js';

/*
 * Traces and budgets against stand-ins that answer in the documented shapes (the real engine's
 * observability worker; llm-budget's contract): neither is on main yet. When the dev engine
 * serves engine::traces::* and llm-budget lands, these tests run against them instead.
 */

jest.setTimeout(240_000);

let stack: Stack;
let browser: Browser;
let observability: Observability;
const standIns: Array<TestWorker<unknown>> = [];

beforeAll(async () => {
  stack = await startStack();
  observability = observabilityStandIn();
  standIns.push(
    await startTestWorker(observability.spec, { url: stack.engineUrl }),
    await startTestWorker(budgetStandIn(), { url: stack.engineUrl }),
  );
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

it('shows spend and what is left per budget', async () => {
  await page().goto(`${stack.consoleUrl}/budgets`);
  const team = page().locator('.budget-card', { hasText: 'Team, monthly' });
  await team.waitFor({ timeout: 20_000 });
  await team.getByText('$31.42 of $50.00').waitFor();
  await team.getByText('Remaining: $17.33').waitFor();
  const agent = page().locator('.budget-card', { hasText: 'Research agent, daily tokens' });
  await agent.getByText('1.87M of 2.00M', { exact: false }).waitFor();
  await agent.getByText('Remaining: 70k tokens').waitFor();
});
