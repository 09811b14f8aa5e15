import { join } from 'node:path';
import { startTestWorker, type TestWorker } from '@iii-harness/testing';
import { contract, contracts } from '@iii-harness/types';
import { z } from 'zod';
import { type Browser, openBrowser } from '../helpers/browser.js';
import { callStep, type Stack, startStack } from '../helpers/stack.js';

/*
 * The screenshots in docs/ and the README: `npm run screenshots` (not part of `npm test`). A real
 * stack with the scripted provider and llm-budget, every worker exporting its spans to the dev
 * engine (the Traces screen shows the real trace of the conversation's turn).
 */

jest.setTimeout(300_000);

const DOCS = join(__dirname, '..', '..', 'docs');
let stack: Stack;
let browser: Browser;
const extra: Array<TestWorker<unknown>> = [];

/** A cloud provider whose worker runs but has no key, for the Models screen. */
const anthropicWithoutKey = {
  name: 'provider-anthropic-stand-in',
  description: 'stand-in',
  config: z.object({}),
  register(worker: Parameters<Parameters<typeof startTestWorker>[0]['register']>[0]) {
    worker.function(
      contract({ id: 'provider::anthropic::stream', description: 'stand-in', input: z.unknown(), output: z.unknown() }),
      () => ({}),
    );
  },
};

beforeAll(async () => {
  stack = await startStack({ otel: true });
  extra.push(await startTestWorker(anthropicWithoutKey, { url: stack.engineUrl }));
  const bus = stack.client.bus;
  await bus.call(contracts.harness.providerRegister, {
    id: 'anthropic',
    display_name: 'Anthropic',
    credential_env_var: 'ANTHROPIC_API_KEY',
    default_url: 'https://api.anthropic.com',
    default_max_tokens: 8192,
    supports_model_listing: true,
    kind: 'cloud',
  });
  await bus.call(contracts.harness.providerRegister, {
    id: 'lmstudio',
    display_name: 'LM Studio',
    default_url: 'http://127.0.0.1:1234',
    default_max_tokens: 4096,
    supports_model_listing: true,
    kind: 'local',
  });
  await bus.call(contracts.models.reconcile, {
    provider: 'anthropic',
    models: [
      {
        id: 'claude-sonnet',
        provider: 'anthropic',
        display_name: 'Claude Sonnet',
        context_window: 200_000,
        max_output_tokens: 64_000,
        capabilities: ['tools', 'thinking', 'images', 'prompt_caching', 'streaming', 'signed_reasoning'],
        pricing: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
      },
    ],
  });
  for (const budget of [
    { name: 'Team, monthly', scope: { kind: 'workspace', id: 'team' }, period: 'month', cap_micro_usd: 50_000_000 },
    { name: 'Research agent, daily', scope: { kind: 'agent', id: 'research' }, period: 'day', cap_tokens: 2_000_000 },
    { name: 'This session', scope: { kind: 'session', id: 'demo' }, period: 'total', cap_micro_usd: 2_000_000 },
  ] as const)
    await bus.call(contracts.budget.create, { ...budget, allow_unpriced: true });
  for (const [scopes, input, output] of [
    [{ workspace_id: 'team' }, 3_000_000, 600_000],
    [{ workspace_id: 'team' }, 2_400_000, 900_000],
    [{ agent_id: 'research' }, 1_200_000, 420_000],
    [{ session_id: 'demo' }, 150_000, 30_000],
  ] as const) {
    const reserved = await bus.call(contracts.budget.reserve, {
      scopes,
      provider: 'scripted',
      model: 'scripted-large',
      input_tokens: input,
      max_output_tokens: output,
    });
    if (reserved.status === 'reserved')
      await bus.call(contracts.budget.commit, {
        reservation_id: reserved.reservation_id,
        usage: { input_tokens: input, output_tokens: output },
      });
  }
  browser = await openBrowser();
});

afterAll(async () => {
  await browser?.close();
  for (const w of extra) await w.shutdown();
  await stack?.close();
});

const page = () => browser.page;
const shot = (name: string) => page().screenshot({ path: join(DOCS, `${name}.png`) });

it('screens', async () => {
  await stack.script(
    {
      match: 'release notes',
      steps: [
        { thinking: 'The user wants the release notes checked. I will read the changelog first, then draft.' },
        { text: 'I will read the changelog first.' },
        callStep('tools::echo', { path: 'CHANGELOG.md', lines: 40 }, 'doc-1'),
      ],
      usage: { input: 1_840, output: 212 },
    },
    {
      match: 'release notes',
      steps: [
        {
          text: [
            '## Release notes — 0.4.0',
            '',
            'Three changes matter to users:',
            '',
            '1. **Durable approvals**: a held call survives a restart of every process.',
            '2. **Branching sessions**: fork from any message, switch branches in place.',
            '3. **Budgets** hold under concurrency.',
            '',
            '```ts',
            "await bus.call(contracts.approval.resolve, { session_id, function_call_id, decision: 'allow' });",
            '```',
            '',
            'Shall I publish them? Publishing needs your approval.',
          ].join('\n'),
        },
        callStep('tools::held', { channel: '#releases', draft: 'release-notes-0.4.0.md' }, 'doc-2'),
      ],
      usage: { input: 2_410, output: 388, cache_read: 1_600 },
    },
  );
  await page().goto(`${stack.consoleUrl}/chat`);
  await page().locator('#composer-input').fill('Draft the release notes for 0.4.0 from the changelog');
  await page().keyboard.press('Enter');
  await page().locator('.fn-card.fn-held').waitFor({ timeout: 30_000 });
  const sessionId = decodeURIComponent(new URL(page().url()).pathname.split('/')[2]!);
  await page()
    .locator('.msg-assistant details.thinking')
    .first()
    .evaluate((el) => el.setAttribute('open', ''));
  await page()
    .locator('body')
    .click({ position: { x: 700, y: 60 } });
  await shot('chat');

  await page().keyboard.press('a');
  await page().locator('.drawer .approval-card').waitFor();
  await page().locator('.drawer .held-why', { hasText: 'No policy rule' }).waitFor();
  await shot('approvals-panel');
  await page().keyboard.press('Escape');

  await page().keyboard.press('m');
  await page().locator('dialog[open] .model-option').first().waitFor();
  await shot('model-picker');
  await page().keyboard.press('Escape');

  await page().goto(`${stack.consoleUrl}/approvals`);
  await page().locator('.approval-card .held-why', { hasText: 'No policy rule' }).waitFor();
  await shot('approvals');

  await page().goto(`${stack.consoleUrl}/models`);
  await page().locator('.provider-card', { hasText: 'missing key' }).waitFor();
  await shot('models');

  // The first half of the turn (up to the held call) as its trace: the Trace link of the answer.
  await page().goto(`${stack.consoleUrl}/chat/${sessionId}`);
  await page().locator('.msg-assistant').first().waitFor();
  await page().waitForTimeout(3_000); // spans reach the engine in batches
  await page().locator('.msg-assistant').first().getByRole('button', { name: 'Trace' }).click();
  await page().locator('.waterfall').waitFor({ timeout: 30_000 });
  await page().locator('.span-row', { hasText: 'tools::echo' }).first().click();
  await page().locator('.span-detail h3', { hasText: 'Logs' }).waitFor();
  await shot('traces');

  await page().goto(`${stack.consoleUrl}/budgets`);
  await page().locator('.budget-card').first().waitFor();
  await shot('budgets');
});
