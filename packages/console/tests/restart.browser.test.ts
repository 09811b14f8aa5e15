import { eventually } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { type Browser, openBrowser } from './helpers/browser.js';
import { callStep, type Stack, startStack } from './helpers/stack.js';

jest.setTimeout(300_000);

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startStack();
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

it('re-reads after an engine restart (the console stays up): nothing lost or doubled on screen, and it works on', async () => {
  const page = browser.page;
  await stack.script({ match: 'before the engine dies', steps: [{ text: 'Answer before.' }] });
  await page.goto(`${stack.consoleUrl}/chat`);
  await page.locator('#composer-input').fill('before the engine dies');
  await page.keyboard.press('Enter');
  await page.locator('.transcript').getByText('Answer before.').waitFor({ timeout: 30_000 });
  const engine = stack.procs.find((p) => p.name === 'engine')!;
  await engine.kill9();
  await page.locator('.banner', { hasText: 'lost the engine' }).waitFor({ timeout: 30_000 });
  await stack.restartEngine();
  await page.locator('.banner').waitFor({ state: 'detached', timeout: 60_000 });
  const transcript = page.locator('.transcript');
  await transcript.getByText('Answer before.').waitFor();
  await eventually(
    async () => {
      expect(await transcript.getByText('before the engine dies').count()).toBe(1);
      expect(await transcript.getByText('Answer before.').count()).toBe(1);
    },
    { timeoutMs: 10_000 },
  );
  await stack.script({ match: 'after the engine came back', steps: [{ text: 'Answer after.' }] });
  await page.locator('#composer-input').fill('after the engine came back');
  await page.keyboard.press('Enter');
  await transcript.getByText('Answer after.').waitFor({ timeout: 60_000 });
  expect(browser.pageErrors).toEqual([]);
});

it('says a turn waits for its provider while the provider is down, and goes on when it is back', async () => {
  const page = browser.page;
  await stack.killProvider();
  await page.goto(`${stack.consoleUrl}/chat`);
  await page.locator('#composer-input').fill('wait for the model');
  await page.keyboard.press('Enter');
  // The orchestrator reports turn_waiting; the chat head names what the turn waits for.
  const waiting = page.locator('.turn-state', { hasText: 'Waiting for provider::scripted' });
  await waiting.waitFor({ timeout: 30_000 });
  // The waiting turn calls it as soon as it registers: it answers without a script.
  await stack.startProvider('The model is back.');
  await page.locator('.transcript').getByText('The model is back.').waitFor({ timeout: 60_000 });
  await waiting.waitFor({ state: 'detached', timeout: 15_000 });
  await page.locator('.turn-state', { hasText: 'Idle' }).waitFor({ timeout: 15_000 });
  expect(browser.pageErrors).toEqual([]);
});

it('a pending hold survives kill -9 of every process; approved from the page, the turn completes and the call runs once', async () => {
  const page = browser.page;
  await stack.script({ match: 'survive the crash', steps: [callStep('tools::held', { step: 'crash' }, 'crash-1')] });
  await page.goto(`${stack.consoleUrl}/chat`);
  await page.locator('#composer-input').fill('survive the crash');
  await page.keyboard.press('Enter');
  const held = page.locator('.fn-card.fn-held', { hasText: 'tools::held' });
  await held.waitFor({ timeout: 30_000 });
  const sessionId = decodeURIComponent(new URL(page.url()).pathname.split('/')[2]!);

  // Engine, every harness worker, the provider and the console: SIGKILL, then start again.
  await stack.killAll();
  await page.locator('.banner').waitFor({ timeout: 15_000 });
  await stack.startAll();

  // The page reconnects by itself and re-reads: the hold is still there, once.
  await page.locator('.banner').waitFor({ state: 'detached', timeout: 60_000 });
  await held.waitFor({ timeout: 30_000 });
  await eventually(async () => expect(await page.locator('.fn-card.fn-held').count()).toBe(1), { timeoutMs: 10_000 });
  await expect(page.locator('.transcript').getByText('survive the crash').count()).resolves.toBe(1);
  expect(
    (await stack.client.bus.call(contracts.approval.listPending, { session_id: sessionId })).pending.map(
      (h) => h.function_call_id,
    ),
  ).toEqual(['crash-1']);

  // The provider lost its script with its process: give it the rest of the turn.
  await stack.script({ match: 'survive the crash', steps: [{ text: 'Survived and ran it.' }] });
  await held.getByRole('button', { name: 'Allow once' }).click();
  await page.locator('.transcript').getByText('Survived and ran it.').waitFor({ timeout: 60_000 });
  await page.locator('.turn-line', { hasText: 'turn stopped' }).waitFor({ timeout: 30_000 });
  expect(stack.runs).toEqual([{ function_id: 'tools::held', input: { step: 'crash' } }]);
  const state = await stack.client.bus.call(contracts.turn.getState, { session_id: sessionId });
  expect(state).toMatchObject({ state: 'stopped', outcome: 'stopped' });
  expect(browser.pageErrors).toEqual([]);
  expect(browser.cspViolations).toEqual([]);
});
