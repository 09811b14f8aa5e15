import { contracts, type SessionEntryBody } from '@iii-harness/types';
import { type Browser, openBrowser } from '../tests/helpers/browser.js';
import { type Stack, startStack } from '../tests/helpers/stack.js';

/*
 * `npm run bench`: a 5,000-entry session in headless Chromium — time to the newest message on
 * screen, rows in the DOM, and frame times while scrolling the whole transcript (one scroll step
 * per animation frame). Numbers go to stdout (docs/benchmarks.md keeps a run); nothing asserts
 * on time.
 */

jest.setTimeout(600_000);

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

const ENTRIES = 5_000;

it('renders and scrolls a 5,000-entry session', async () => {
  const session_id = `bench-${Date.now()}`;
  await stack.client.bus.call(contracts.session.ensure, { session_id });
  const entries: Array<{ entry: SessionEntryBody }> = [];
  for (let i = 0; i < ENTRIES; i++)
    entries.push({
      entry:
        i % 2 === 0
          ? { type: 'message', message: { role: 'user', content: `question ${i}: ${'lorem ipsum '.repeat(8)}` } }
          : {
              type: 'message',
              message: {
                role: 'assistant',
                content: [
                  {
                    type: 'text',
                    text: `**answer ${i}**\n\n${'dolor sit amet '.repeat(20)}\n\n- one\n- two\n\n\`\`\`js\nconsole.log(${i});\n\`\`\``,
                  },
                ],
                provider: 'scripted',
                model: 'scripted-small',
                usage: { input_tokens: 100, output_tokens: 200, cache_read_tokens: 0, cache_write_tokens: 0 },
                stop_reason: 'end',
              },
            },
    });
  for (let i = 0; i < entries.length; i += 100)
    await stack.client.bus.call(contracts.session.appendBatch, { session_id, entries: entries.slice(i, i + 100) });
  const page = browser.page;
  await page.goto(`${stack.consoleUrl}/chat`);
  await page.locator('.sessions').waitFor();
  const started = Date.now();
  await page.goto(`${stack.consoleUrl}/chat/${session_id}`);
  await page
    .locator('.transcript')
    .getByText(`answer ${ENTRIES - 1}`)
    .waitFor({ timeout: 120_000 });
  const firstPaintMs = Date.now() - started;
  const rows = await page.locator('.vlist-row').count();
  const frames = (await page.evaluate(`new Promise((resolve) => {
    const el = document.querySelector('.transcript');
    el.scrollTop = el.scrollHeight;
    const deltas = [];
    let last = performance.now();
    let steps = 0;
    const step = (now) => {
      deltas.push(now - last);
      last = now;
      el.scrollTop = Math.max(0, el.scrollTop - 1200);
      if (el.scrollTop > 0 && steps++ < 2000) requestAnimationFrame(step);
      else resolve({ deltas, steps });
    };
    requestAnimationFrame(step);
  })`)) as { deltas: number[]; steps: number };
  const sorted = [...frames.deltas.slice(1)].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1);
  process.stdout.write(
    `\n[console bench] ${ENTRIES} entries: newest message on screen after ${firstPaintMs} ms (navigation, session::tree, console.activity, render); ` +
      `${rows} rows in the DOM; scrolled top to bottom in ${frames.steps} frames (1200 px each): ` +
      `frame time p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${sorted.at(-1)!.toFixed(1)} ms, ` +
      `${sorted.filter((d) => d > 50).length} frames over 50 ms\n`,
  );
  expect(rows).toBeLessThan(80);
});
