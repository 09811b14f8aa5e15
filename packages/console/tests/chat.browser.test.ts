import { eventually } from '@iii-harness/testing';
import { contracts } from '@iii-harness/types';
import { type Browser, openBrowser, until } from './helpers/browser.js';
import { callStep, type Stack, startStack } from './helpers/stack.js';

jest.setTimeout(240_000);

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

/** The session the page shows (its id is in the URL). */
const shownSession = () => decodeURIComponent(new URL(page().url()).pathname.split('/')[2] ?? '');

async function newChat(text: string): Promise<string> {
  await page().goto(`${stack.consoleUrl}/chat`);
  await page().locator('#composer-input').fill(text);
  await page().keyboard.press('Enter');
  await page().waitForURL(/\/chat\/.+/);
  return shownSession();
}

it('sends a message and streams the answer as it is written', async () => {
  const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
  await stack.script({
    match: 'hello console',
    steps: [{ text: `# Answer\n\n${words}\n\n\`\`\`js\nconsole.log(1)\n\`\`\`` }],
    split: 40,
    delay_ms: 60,
  });
  const sessionId = await newChat('hello console');
  const transcript = page().locator('.transcript');
  await transcript.getByText('hello console').waitFor();
  // Mid-stream: the draft shows part of the answer before the turn completes.
  const draft = page().locator('.msg-streaming');
  await draft.getByText('word3', { exact: false }).waitFor({ timeout: 20_000 });
  const partial = await draft.textContent();
  expect(partial).not.toContain('word39');
  // Then the whole answer, rendered as markdown with a code block that can be copied.
  await transcript.locator('h3', { hasText: 'Answer' }).waitFor({ timeout: 30_000 });
  await transcript.getByText('word39', { exact: false }).waitFor();
  await page().locator('.msg-streaming').waitFor({ state: 'detached' });
  await expect(transcript.locator('figure.code code').textContent()).resolves.toContain('console.log(1)');
  await expect(transcript.locator('figure.code button').textContent()).resolves.toBe('Copy');
  // Usage and cost of the turn sit under the answer.
  await transcript.locator('.turn-line', { hasText: 'turn stopped' }).waitFor();
  const session = await stack.client.bus.call(contracts.session.get, { session_id: sessionId });
  expect(session.session.entry_count).toBe(2);
});

it('shows a held call at once, approves it from the page, and it runs exactly once', async () => {
  stack.runs.length = 0;
  // The held call is in the turn's second message: a quick message arrives whole (no deltas)
  // while the first one's entry may still be on its way, and must show all the same.
  await stack.script(
    { match: 'run the held tool', steps: [{ text: 'Let me check.' }, callStep('tools::echo', { n: 0 }, 'echo-0')] },
    { match: 'run the held tool', steps: [{ text: 'Now the held one.' }, callStep('tools::held', { n: 1 }, 'held-1')] },
    { match: 'run the held tool', steps: [{ text: 'It ran.' }] },
  );
  await newChat('please run the held tool');
  const card = page().locator('.fn-card.fn-held');
  await card.waitFor({ timeout: 30_000 });
  await page().locator('.transcript').getByText('Now the held one.').waitFor();
  await expect(card.locator('.fn-id').textContent()).resolves.toBe('tools::held');
  await expect(card.textContent()).resolves.toContain('"n": 1');
  await card.getByText('No policy rule allows tools::held').waitFor();
  // The badge counts it wherever the person is.
  await expect(page().locator('.tab .badge.count').textContent()).resolves.toBe('1 pending');
  // A reload keeps the hold (it lives in engine state).
  await page().reload();
  await card.waitFor({ timeout: 15_000 });
  await card.getByText('No policy rule allows tools::held').waitFor();
  await card.getByRole('button', { name: 'Allow once' }).click();
  await page().locator('.transcript').getByText('It ran.').waitFor({ timeout: 30_000 });
  await page().locator('.fn-card.fn-done .fn-id', { hasText: 'tools::held' }).waitFor();
  expect(stack.runs).toEqual([
    { function_id: 'tools::echo', input: { n: 0 } },
    { function_id: 'tools::held', input: { n: 1 } },
  ]);
  await expect(page().locator('.tab .badge.count').count()).resolves.toBe(0);
});

it('keeps everything after a reload in the middle of a turn', async () => {
  const words = Array.from({ length: 60 }, (_, i) => `part${i}`).join(' ');
  await stack.script({ match: 'reload me', steps: [{ text: words }], split: 60, delay_ms: 80 });
  const sessionId = await newChat('reload me');
  const draft = page().locator('.msg-streaming');
  await draft.getByText('part5', { exact: false }).waitFor({ timeout: 20_000 });
  await page().reload();
  // The user message, and the answer so far (rebuilt from the stored agent events), are back.
  await page().locator('.transcript').getByText('reload me').waitFor();
  await page().locator('.msg-streaming').getByText('part5', { exact: false }).waitFor({ timeout: 10_000 });
  await page().locator('.transcript').getByText('part59', { exact: false }).waitFor({ timeout: 30_000 });
  await page().locator('.msg-streaming').waitFor({ state: 'detached' });
  // Exactly one copy of the answer on screen.
  await expect(page().locator('.transcript').getByText('part59', { exact: false }).count()).resolves.toBe(1);
  expect(shownSession()).toBe(sessionId);
});

it('uses the model picked in the picker for the next turn', async () => {
  await stack.script({ match: 'first on the default', steps: [{ text: 'small answer' }] });
  const sessionId = await newChat('first on the default');
  await page().locator('.transcript').getByText('small answer').waitFor({ timeout: 30_000 });
  // Pick the large model with the keyboard: m opens the picker, type to filter, Enter picks.
  await page()
    .locator('body')
    .click({ position: { x: 5, y: 300 } });
  await page().keyboard.press('m');
  await page().locator('#model-search').fill('large');
  await page().keyboard.press('Enter');
  await page().locator('.model-button', { hasText: 'Scripted Large' }).waitFor();
  await stack.script({ match: 'second on the large', steps: [{ text: 'large answer' }] });
  await page().locator('#composer-input').fill('second on the large model');
  await page().keyboard.press('Enter');
  await page().locator('.transcript').getByText('large answer').waitFor({ timeout: 30_000 });
  const requests = await stack.requests();
  expect(requests.at(-1)!.model).toBe('scripted-large');
  expect(requests.at(-2)!.model).toBe('scripted-small');
  const started = (await stack.agentEvents(sessionId)).filter((e) => e.type === 'turn_started');
  expect(started.map((e) => (e as { model: string }).model)).toEqual(['scripted-small', 'scripted-large']);
});

it('forks from a message and switches between branches', async () => {
  await stack.script({ match: 'question one', steps: [{ text: 'answer one' }] });
  const sessionId = await newChat('question one');
  await page().locator('.transcript').getByText('answer one').waitFor({ timeout: 30_000 });
  // Edit the question: the new text becomes a sibling branch of the original.
  const question = page().locator('.msg-user', { hasText: 'question one' });
  await question.hover();
  await question.getByRole('button', { name: 'Edit' }).click();
  await until(page(), "document.getElementById('composer-input').value === 'question one'");
  await page().locator('#composer-input').fill('question two');
  await stack.script({ match: 'question two', steps: [{ text: 'answer two' }] });
  await page().keyboard.press('Enter');
  await page().locator('.transcript').getByText('answer two').waitFor({ timeout: 30_000 });
  await page().locator('.branch-switch', { hasText: 'branch 2/2' }).waitFor();
  await expect(page().locator('.transcript').getByText('question one').count()).resolves.toBe(0);
  // Back to the first branch.
  await page().getByRole('button', { name: 'Previous branch' }).click();
  await page().locator('.transcript').getByText('answer one').waitFor();
  await page().locator('.branch-switch', { hasText: 'branch 1/2' }).waitFor();
  const tree = await stack.client.bus.call(contracts.session.tree, { session_id: sessionId });
  expect(tree.roots).toHaveLength(2);
  // Fork the first branch into a new session.
  const answer = page().locator('.msg-assistant', { hasText: 'answer one' });
  await answer.hover();
  await answer.getByRole('button', { name: 'Fork' }).click();
  await eventually(() => expect(shownSession()).not.toBe(sessionId), { timeoutMs: 10_000 });
  await page().locator('.transcript').getByText('answer one').waitFor();
  const forked = await stack.client.bus.call(contracts.session.get, { session_id: shownSession() });
  expect(forked.session.forked_from?.session_id).toBe(sessionId);
});

it('steers a running turn with a message typed while it streams, and stops a turn', async () => {
  const slow = Array.from({ length: 30 }, (_, i) => `slow${i}`).join(' ');
  await stack.script(
    { match: 'steer me', steps: [{ text: slow }], split: 30, delay_ms: 60 },
    { match: 'change course', steps: [{ text: 'Course changed.' }] },
  );
  const sessionId = await newChat('steer me');
  await page().locator('.msg-streaming').getByText('slow2', { exact: false }).waitFor({ timeout: 20_000 });
  // While it streams, the box steers: the message is queued into the live turn.
  await page().getByRole('button', { name: 'Steer' }).waitFor();
  await page().locator('#composer-input').fill('change course');
  await page().keyboard.press('Enter');
  await page().locator('.composer-note', { hasText: 'Queued for the running turn' }).waitFor();
  await page().locator('.transcript').getByText('Course changed.').waitFor({ timeout: 30_000 });
  await page().locator('.composer-note', { hasText: 'Queued' }).waitFor({ state: 'detached' });
  const path = await stack.client.bus.call(contracts.session.messages, { session_id: sessionId });
  expect(path.messages.map((m) => m.message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  expect((await stack.agentEvents(sessionId)).filter((e) => e.type === 'turn_started')).toHaveLength(1);

  // Stop: the partial answer stays, marked as stopped; the turn ends as aborted.
  const long = Array.from({ length: 80 }, (_, i) => `never${i}`).join(' ');
  await stack.script({ match: 'stop me', steps: [{ text: long }], split: 80, delay_ms: 100 });
  await page().locator('#composer-input').fill('stop me');
  await page().keyboard.press('Enter');
  await page().locator('.msg-streaming').getByText('never2', { exact: false }).waitFor({ timeout: 20_000 });
  await page().getByRole('button', { name: 'Stop the turn' }).click();
  await page().locator('.turn-line', { hasText: 'turn aborted' }).waitFor({ timeout: 30_000 });
  await page().locator('.transcript').getByText('Stopped', { exact: false }).first().waitFor();
  await expect(page().locator('.transcript').getByText('never79', { exact: false }).count()).resolves.toBe(0);
});

it('exports the conversation and runs /compact through the compaction worker', async () => {
  await stack.script({ match: 'export me', steps: [{ text: 'Something worth keeping.' }] });
  await newChat('export me');
  await page().locator('.transcript').getByText('Something worth keeping.').waitFor({ timeout: 30_000 });
  const download = page().waitForEvent('download');
  await page().locator('#composer-input').fill('/export md');
  await page().keyboard.press('Enter');
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/\.md$/);
  const { readFile } = await import('node:fs/promises');
  const text = await readFile((await file.path())!, 'utf8');
  expect(text).toContain('export me');
  expect(text).toContain('Something worth keeping.');
  // /compact reaches the compaction worker and its answer is shown (what it decides is its own
  // tests' business: one short exchange has nothing older than the kept tail).
  const sessionId = shownSession();
  await page().locator('#composer-input').fill('/compact keep the decisions');
  await page().keyboard.press('Enter');
  await page()
    .locator('.toast', { hasText: /^Compact(ed|ion):/ })
    .waitFor({ timeout: 60_000 });
  const state = await stack.client.bus.call(contracts.compaction.getState, { session_id: sessionId });
  expect(state.last_result ?? state.last_failure).not.toBeNull();
  // A compaction entry on the path shows as a collapsible summary.
  await stack.client.bus.call(contracts.session.append, {
    session_id: sessionId,
    entry: {
      type: 'compaction',
      summary: '## Goal\nKeep it.',
      tokens_before: 1234,
      first_kept_entry_id:
        state.latest_compaction_entry_id ??
        (await stack.client.bus.call(contracts.session.get, { session_id: sessionId })).session.leaf_id!,
    },
  });
  await page().locator('.msg-compaction', { hasText: '1.2k tokens before' }).waitFor({ timeout: 15_000 });
});
