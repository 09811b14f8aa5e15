import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { contracts } from '@iii-harness/types';
import { engineReachable, engineUrl } from '../connect.js';
import { CliError, usageError } from '../errors.js';
import type { GlobalOptions } from '../program.js';
import { c } from '../style.js';
import { withClient } from './common.js';

/**
 * `iii-harness open`: the web console in a browser. The console is its own worker
 * (`iii-harness-console`, started by `iii-harness dev` when installed); this only finds its
 * address (--console-url, IIH_CONSOLE_URL, what the console reports on the bus, else the default),
 * checks that something answers there, and hands it to the platform's opener.
 */

export const DEFAULT_CONSOLE_URL = 'http://127.0.0.1:3113';

export interface OpenOptions {
  consoleUrl?: string;
  print: boolean;
}

/** Whether an HTTP server answers at the URL (any status: a page that wants its token answers too). */
export async function answers(url: string, timeoutMs = 3_000): Promise<boolean> {
  try {
    const response = await fetch(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean))
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  return false;
}

/** The command that opens a URL here: $BROWSER, else the platform's opener when it is installed. */
export function opener(url: string): { command: string; args: string[] } | undefined {
  const browser = process.env.BROWSER?.trim();
  if (browser) return { command: browser, args: [url] };
  if (process.platform === 'darwin') return { command: 'open', args: [url] };
  if (process.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url] };
  return onPath('xdg-open') ? { command: 'xdg-open', args: [url] } : undefined;
}

/** The address the running console reports on the bus (its port may not be the default), if any. */
async function consoleUrlOnBus(globals: GlobalOptions): Promise<string | undefined> {
  const url = engineUrl(globals.url);
  if (!(await engineReachable(url, 1_000))) return undefined;
  try {
    return await withClient(
      globals,
      async (client) => (await client.bus.call(contracts.console.status, {}, { timeoutMs: 2_000 })).url,
    );
  } catch {
    return undefined; // no console registered: the default address is tried
  }
}

function consoleUrl(options: OpenOptions, onBus: string | undefined): string {
  const url = options.consoleUrl ?? process.env.IIH_CONSOLE_URL ?? onBus ?? DEFAULT_CONSOLE_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('not http');
    return parsed.href;
  } catch {
    throw usageError(`--console-url must be an http(s) URL, not ${url}`);
  }
}

/** Start the opener and let it go (browsers outlive us); false when it could not start. */
function launch(how: { command: string; args: string[] }): Promise<boolean> {
  return new Promise((done) => {
    const child = spawn(how.command, how.args, { stdio: 'ignore', detached: true });
    child.once('error', () => done(false));
    child.once('spawn', () => {
      child.unref();
      done(true);
    });
  });
}

export async function runOpen(options: OpenOptions, globals: GlobalOptions): Promise<void> {
  const given = options.consoleUrl ?? process.env.IIH_CONSOLE_URL;
  const url = consoleUrl(options, given ? undefined : await consoleUrlOnBus(globals));
  if (!(await answers(url))) {
    process.stdout.write(`${url}\n`);
    throw new CliError(
      `nothing answers at ${url}: the console is not running (\`iii-harness dev\` starts it when @iii-harness/console is installed; --console-url if it runs elsewhere)`,
    );
  }
  if (options.print) {
    process.stdout.write(`${url}\n`);
    return;
  }
  const how = opener(url);
  if (how && (await launch(how))) {
    process.stdout.write(`opening ${c.cyan(url)}\n`);
    return;
  }
  process.stdout.write(`${url}\n`);
  process.stderr.write(c.dim('no browser opener found here (set BROWSER, or open the address above yourself)\n'));
}
