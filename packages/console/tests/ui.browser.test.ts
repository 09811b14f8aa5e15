import { startTestWorker } from '@iii-harness/testing';
import { contract, contracts, type SessionEntryBody } from '@iii-harness/types';
import { z } from 'zod';
import { axe, type Browser, openBrowser, serious, until } from './helpers/browser.js';
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

afterEach(async () => {
  if (process.env.CONSOLE_DEBUG_SHOTS)
    await page().screenshot({ path: `/tmp/console-${expect.getState().currentTestName?.replace(/\W+/g, '-')}.png` });
  expect(browser.cspViolations).toEqual([]);
  expect(browser.pageErrors).toEqual([]);
});

const page = () => browser.page;

it('chat and approvals work from the keyboard alone', async () => {
  stack.runs.length = 0;
  await stack.script(
    { match: 'keyboard only', steps: [callStep('tools::held', { via: 'keyboard' }, 'kb-1')] },
    { match: 'keyboard only', steps: [{ text: 'Done by keyboard.' }] },
  );
  await page().goto(`${stack.consoleUrl}/approvals`);
  await page().locator('h1', { hasText: 'Approvals' }).waitFor();
  // n: a new chat with the message box focused.
  await page().keyboard.press('n');
  await page().waitForURL(/\/chat$/);
  await until(page(), "document.activeElement && document.activeElement.id === 'composer-input'");
  await page().keyboard.type('keyboard only please');
  await page().keyboard.press('Enter');
  await page().locator('.fn-card.fn-held').waitFor({ timeout: 30_000 });
  // Leave the message box (Tab), open the approvals panel (a): focus lands on the held call.
  await page().keyboard.press('Tab');
  await page().keyboard.press('a');
  await page().locator('.drawer .approval-card').waitFor();
  await until(page(), "document.activeElement && document.activeElement.classList.contains('approval-card')");
  // y: allow once.
  await page().keyboard.press('y');
  await page().locator('.transcript').getByText('Done by keyboard.').waitFor({ timeout: 30_000 });
  expect(stack.runs).toEqual([{ function_id: 'tools::held', input: { via: 'keyboard' } }]);
  await page().keyboard.press('Escape');
  await page().locator('.drawer').waitFor({ state: 'detached' });
});

it('a call can be denied with a reason from the keyboard', async () => {
  stack.runs.length = 0;
  await stack.script(
    { match: 'deny by keyboard', steps: [callStep('tools::held', { n: 2 }, 'kb-2')] },
    { match: 'deny by keyboard', steps: [{ text: 'Understood, not running it.' }] },
  );
  await page().goto(`${stack.consoleUrl}/models`);
  await page().locator('h1', { hasText: 'Models' }).waitFor();
  await page().keyboard.press('n');
  await until(page(), "document.activeElement && document.activeElement.id === 'composer-input'");
  await page().keyboard.type('deny by keyboard');
  await page().keyboard.press('Enter');
  await page().locator('.fn-card.fn-held').waitFor({ timeout: 30_000 });
  const sessionId = decodeURIComponent(new URL(page().url()).pathname.split('/')[2] ?? '');
  await page().keyboard.press('Tab');
  await page().keyboard.press('g');
  await page().keyboard.press('a');
  await page().waitForURL(/\/approvals$/);
  await until(page(), "document.activeElement && document.activeElement.classList.contains('approval-card')");
  await page().keyboard.press('d');
  await until(page(), "document.activeElement && document.activeElement.id.startsWith('deny-')");
  await page().keyboard.type('not today');
  await page().keyboard.press('Enter');
  await page().getByText('Nothing is waiting for you.').waitFor({ timeout: 15_000 });
  expect(stack.runs).toEqual([]);
  // The denial, with its reason, is the call's result the model reads (appended when the turn wakes).
  await page().goto(`${stack.consoleUrl}/chat/${sessionId}`);
  await page().locator('.transcript').getByText('Understood, not running it.').waitFor({ timeout: 30_000 });
  const messages = await stack.client.bus.call(contracts.session.messages, { session_id: sessionId });
  const result = messages.messages.find((m) => m.message.role === 'function_result');
  expect(JSON.stringify(result?.message)).toContain('not today');
});

it('has no serious accessibility violations on any screen', async () => {
  // Something on each screen: a conversation with markdown, a code block and a held call.
  await stack.script({
    match: 'axe check',
    steps: [
      { text: '## Heading\n\nSome **bold** text.\n\n```ts\nconst x = 1;\n```' },
      callStep('tools::held', {}, 'ax-1'),
    ],
  });
  await page().goto(`${stack.consoleUrl}/chat`);
  await page().locator('#composer-input').fill('axe check');
  await page().keyboard.press('Enter');
  await page().locator('.fn-card.fn-held').waitFor({ timeout: 30_000 });
  const findings: Record<string, string[]> = {};
  findings.chat = serious(await axe(page()));
  await page().keyboard.press('Tab');
  await page().keyboard.press('m');
  await page().locator('dialog[open] #model-search').waitFor();
  findings.modelPicker = serious(await axe(page()));
  await page().keyboard.press('Escape');
  await page().locator('body').press('?');
  await page().locator('dialog[open]').waitFor();
  findings.shortcuts = serious(await axe(page()));
  await page().keyboard.press('Escape');
  await page().keyboard.press('a');
  await page().locator('.drawer').waitFor();
  findings.approvalsPanel = serious(await axe(page()));
  await page().keyboard.press('Escape');
  for (const screen of ['approvals', 'models', 'traces', 'budgets']) {
    await page().goto(`${stack.consoleUrl}/${screen}`);
    await page().locator('h1').waitFor();
    await page().waitForLoadState('networkidle');
    findings[screen] = serious(await axe(page()));
  }
  expect(findings).toEqual({
    chat: [],
    modelPicker: [],
    shortcuts: [],
    approvalsPanel: [],
    approvals: [],
    models: [],
    traces: [],
    budgets: [],
  });
});

it('renders a 5,000-entry session with only the visible rows in the page, and scrolls end to end', async () => {
  const session_id = `long-${Date.now()}`;
  await stack.client.bus.call(contracts.session.ensure, { session_id, display_name: 'Five thousand entries' });
  const entries: Array<{ entry: SessionEntryBody }> = [];
  for (let i = 0; i < 5_000; i++)
    entries.push({
      entry:
        i % 2 === 0
          ? { type: 'message', message: { role: 'user', content: `question number ${i}` } }
          : {
              type: 'message',
              message: {
                role: 'assistant',
                content: [
                  { type: 'text', text: `answer number ${i}\n\n- a list item\n- another one\n\n\`code ${i}\`` },
                ],
                provider: 'scripted',
                model: 'scripted-small',
                usage: { input_tokens: 10, output_tokens: 20, cache_read_tokens: 0, cache_write_tokens: 0 },
                stop_reason: 'end',
              },
            },
    });
  for (let i = 0; i < entries.length; i += 100)
    await stack.client.bus.call(contracts.session.appendBatch, { session_id, entries: entries.slice(i, i + 100) });
  await page().goto(`${stack.consoleUrl}/chat/${session_id}`);
  // Opens at the end (the newest message), with a bounded number of rows in the DOM.
  await page().locator('.transcript').getByText('answer number 4999').waitFor({ timeout: 60_000 });
  const rows = await page().locator('.vlist-row').count();
  expect(rows).toBeGreaterThan(3);
  expect(rows).toBeLessThan(60);
  // To the top and back, by scrolling the list.
  await page().evaluate("document.querySelector('.transcript').scrollTop = 0");
  await page().locator('.transcript').getByText('question number 0', { exact: true }).waitFor({ timeout: 30_000 });
  expect(await page().locator('.vlist-row').count()).toBeLessThan(60);
  await page().evaluate("document.querySelector('.transcript').scrollTop = 1e9");
  await page().locator('.transcript').getByText('answer number 4999').waitFor({ timeout: 30_000 });
});

it('sets the approval mode per session: in auto, a call the policy does not deny runs without a hold', async () => {
  stack.runs.length = 0;
  await stack.script(
    { match: 'auto mode', steps: [{ text: 'first' }] },
    { match: 'auto mode again', steps: [callStep('tools::held', { mode: 'auto' }, 'auto-1')] },
    { match: 'auto mode again', steps: [{ text: 'Ran without asking.' }] },
  );
  await page().goto(`${stack.consoleUrl}/chat`);
  await page().locator('#composer-input').fill('auto mode');
  await page().keyboard.press('Enter');
  await page().locator('.transcript').getByText('first').waitFor({ timeout: 30_000 });
  const sessionId = decodeURIComponent(new URL(page().url()).pathname.split('/')[2]!);
  await page().getByLabel('Approvals').selectOption('auto');
  await page().locator('.toast', { hasText: 'Approval mode: auto' }).waitFor();
  expect((await stack.client.bus.call(contracts.approval.getSettings, { session_id: sessionId })).mode).toBe('auto');
  await page().locator('#composer-input').fill('auto mode again');
  await page().keyboard.press('Enter');
  await page().locator('.transcript').getByText('Ran without asking.').waitFor({ timeout: 30_000 });
  expect(stack.runs).toEqual([{ function_id: 'tools::held', input: { mode: 'auto' } }]);
});

it('stores a provider key from the Models screen; the page never receives it back', async () => {
  const key = 'sk-ant-console-page-never-sees-this-0000';
  const frames: string[] = [];
  page().on('websocket', (ws) => ws.on('framereceived', (f) => frames.push(String(f.payload))));
  const anthropic = await startTestWorker(
    {
      name: 'provider-anthropic-stand-in',
      description: 'a cloud provider whose worker runs, for the key flow',
      config: z.object({}),
      register(worker) {
        worker.function(
          contract({
            id: 'provider::anthropic::stream',
            description: 'stand-in',
            input: z.unknown(),
            output: z.unknown(),
          }),
          () => ({}),
        );
      },
    },
    { url: stack.engineUrl },
  );
  try {
    await stack.client.bus.call(contracts.harness.providerRegister, {
      id: 'anthropic',
      display_name: 'Anthropic',
      credential_env_var: 'ANTHROPIC_API_KEY',
      default_url: 'https://api.anthropic.com',
      default_max_tokens: 8192,
      supports_model_listing: true,
      kind: 'cloud',
    });
    await page().goto(`${stack.consoleUrl}/models`);
    const card = page().locator('.provider-card', { hasText: 'Anthropic' });
    await card.getByText('missing key').waitFor({ timeout: 20_000 });
    await card.getByRole('button', { name: 'Set key' }).click();
    await page().locator('dialog[open] input[type=password]').fill(key);
    await page().locator('dialog[open]').getByRole('button', { name: 'Store key' }).click();
    await card.getByText('usable').waitFor({ timeout: 15_000 });
    await card.getByText('key stored in the vault').waitFor();
    expect((await stack.client.bus.call(contracts.auth.getToken, { provider: 'anthropic' })).token).toBe(key);
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.join('\n')).not.toContain(key);
    await expect(page().content()).resolves.not.toContain(key);
  } finally {
    await anthropic.shutdown();
  }
});
