import { accessSync, constants, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Debian's Chromium, headless, on a fresh profile. Nothing is ever downloaded: playwright-core
 * drives the executable that is installed (`.ci/run` installs it with apt). CHROME_PATH points
 * elsewhere (CHROMIUM_PATH is read too).
 */
export const CHROMIUM = process.env.CHROME_PATH || process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** A missing browser fails the browser tests, loudly: it is never a reason to skip them. */
export function assertChromium(path = CHROMIUM): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `No Chromium at ${path}: the console's browser tests need it. Install Debian's \`chromium\` ` +
        '(apt-get install chromium) or set CHROME_PATH to a Chromium or Chrome executable.',
    );
  }
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console messages that report a Content-Security-Policy violation (must stay empty). */
  cspViolations: string[];
  /** Errors thrown by the page's scripts (must stay empty). */
  pageErrors: string[];
  close(): Promise<void>;
}

// Checked when a browser test file loads, before it starts a stack: the file fails at once.
assertChromium();

export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'iih-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
    viewport: { width: 1400, height: 900 },
    colorScheme: 'dark',
    reducedMotion: 'reduce',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  const watch = (p: Page) => {
    p.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    p.on('pageerror', (error) => pageErrors.push(error.message));
  };
  watch(page);
  context.on('page', watch);
  return { context, page, cspViolations, pageErrors, close: () => context.close() };
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}

/**
 * axe-core on the page as it is. It is evaluated through the DevTools protocol, which the page's
 * CSP does not govern (an injected <script> would be refused, as it should be).
 */
export async function axe(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const result = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as {
    violations: AxeViolation[];
  };
  return result.violations;
}

/** Serious and critical findings, one line each (what the tests refuse). */
export const serious = (violations: AxeViolation[]) =>
  violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);

/**
 * Wait until a JavaScript expression is true in the page. Evaluated through the DevTools
 * protocol on purpose: playwright's waitForFunction compiles strings in the page, which the
 * console's CSP (no 'unsafe-eval') rightly refuses.
 */
export async function until(page: Page, expression: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
