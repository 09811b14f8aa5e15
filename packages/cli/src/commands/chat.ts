import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { confirm } from '@clack/prompts';
import { render } from 'ink';
import { createElement } from 'react';
import { type Choice, chooseModel, ensureDemoProvider } from '../chat/choose.js';
import { ChatController } from '../chat/controller.js';
import { HarnessClient } from '../client.js';
import { captureSdkConsole, engineUrl } from '../connect.js';
import { DEMO_PROVIDER } from '../demo/script.js';
import { CliError, usageError } from '../errors.js';
import type { GlobalOptions } from '../program.js';
import { App } from '../tui/app.js';

interface ChatOptions {
  session?: string;
  provider?: string;
  model?: string;
}

const HISTORY_FILE = process.env.IIH_CLI_HISTORY ?? join(homedir(), '.iii', 'cli-history');
const HISTORY_KEEP = 500;

/** Input history shared by every chat (one JSON string per line). */
function loadHistory(): string[] {
  try {
    return readFileSync(HISTORY_FILE, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string)
      .slice(-HISTORY_KEEP);
  } catch {
    return [];
  }
}

function remember(text: string): void {
  try {
    mkdirSync(dirname(HISTORY_FILE), { recursive: true, mode: 0o700 });
    appendFileSync(HISTORY_FILE, `${JSON.stringify(text)}\n`, { mode: 0o600 });
  } catch {
    // history is a convenience
  }
}

/** When nothing can answer: say what to do, and on a terminal offer the demo (chosen, never implied). */
async function choose(client: HarnessClient, options: ChatOptions): Promise<Choice> {
  try {
    return await chooseModel(client, { ...options, sessionId: options.session });
  } catch (error) {
    if (!(error instanceof CliError) || options.provider || !process.stdin.isTTY) throw error;
    process.stderr.write(`${error.message.replace(/; or try the offline demo: --provider demo$/, '')}\n\n`);
    const tryDemo = await confirm({
      message: 'Try the offline demo instead? (scripted answers, no model, no key)',
      initialValue: false,
    });
    if (tryDemo !== true) throw new CliError('no provider chosen');
    return chooseModel(client, { provider: DEMO_PROVIDER });
  }
}

export async function runChat(options: ChatOptions, globals: GlobalOptions): Promise<void> {
  if (!process.stdin.isTTY || !process.stdout.isTTY)
    throw usageError('chat needs a terminal; for scripts use `iii-harness send "text" --wait` (or --json)');
  captureSdkConsole(process.env.IIH_CLI_DEBUG_LOG ?? join(tmpdir(), 'iii-harness-cli.log'));
  const client = await HarnessClient.connect(engineUrl(globals.url));
  let demo: Awaited<ReturnType<typeof ensureDemoProvider>>;
  try {
    if (options.session && !(await client.getSession(options.session)))
      throw usageError(`there is no session ${options.session} (\`iii-harness sessions\` lists them)`);
    const choice = await choose(client, options);
    if (choice.provider === DEMO_PROVIDER) demo = await ensureDemoProvider(client);

    let exited!: () => void;
    const done = new Promise<void>((resolve) => {
      exited = resolve;
    });
    const chat = new ChatController(client, {
      ...(options.session ? { sessionId: options.session } : {}),
      provider: choice.provider,
      model: choice.model,
      history: loadHistory(),
      onExit: () => exited(),
      onSubmitted: remember,
    });
    await chat.start();
    // Bracketed paste: pasted line breaks arrive marked, so they become new lines, not sends.
    process.stdout.write('\u001b[?2004h');
    const ink = render(createElement(App, { chat }), { exitOnCtrlC: false, patchConsole: false });
    await done;
    ink.unmount();
    await ink.waitUntilExit().catch(() => undefined);
    process.stdout.write('\u001b[?2004l');
    process.stdout.write(`session ${chat.sessionId} · resume with \`iii-harness chat --session ${chat.sessionId}\`\n`);
  } finally {
    await demo?.shutdown().catch(() => undefined);
    await client.close().catch(() => undefined);
  }
}
