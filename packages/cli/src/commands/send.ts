import { uuidv7 } from '@iii-harness/runtime';
import type { AgentEvent } from '@iii-harness/types';
import { chooseModel, ensureDemoProvider } from '../chat/choose.js';
import { EventFeed } from '../chat/event-feed.js';
import { Transcript } from '../chat/transcript.js';
import type { HarnessClient } from '../client.js';
import { CliError, EXIT, usageError } from '../errors.js';
import type { GlobalOptions } from '../program.js';
import { renderItemText } from '../render/items.js';
import { c } from '../style.js';
import { withClient } from './common.js';

interface SendOptions {
  session?: string;
  provider?: string;
  model?: string;
  wait: boolean;
  json: boolean;
  waitApproval: boolean;
  timeout?: number;
}

const OUTCOME_EXIT = { stopped: EXIT.ok, failed: EXIT.failed, aborted: EXIT.aborted } as const;

/** The highest seq stored for a session: events at or below it belong to earlier turns. */
async function currentSeq(client: HarnessClient, sessionId: string): Promise<number> {
  const events = await client.agentEvents(sessionId);
  return events.at(-1)?.seq ?? 0;
}

export async function runSend(text: string, options: SendOptions, globals: GlobalOptions): Promise<void> {
  if (!text.trim()) throw usageError('nothing to send: give the message as an argument');
  const follow = options.wait || options.json;
  await withClient(globals, async (client) => {
    if (options.session && !(await client.getSession(options.session)))
      throw usageError(
        `there is no session ${options.session} (\`iii-harness sessions\` lists them; leave out --session for a new one)`,
      );
    const choice = await chooseModel(client, {
      provider: options.provider,
      model: options.model,
      sessionId: options.session,
    });
    const demo = choice.provider === 'demo' ? await ensureDemoProvider(client) : undefined;
    try {
      const sessionId = options.session ?? uuidv7();
      // The demo lives in this process, so without --wait its turn would lose its provider.
      if (!follow && !demo) {
        const sent = await client.send({ session_id: sessionId, text, ...choice });
        process.stdout.write(`${sent.session_id}\n`);
        if (process.stderr.isTTY)
          process.stderr.write(
            c.dim(
              `${sent.merged ? 'sent to the running turn' : `turn ${sent.turn_id} started`}; follow it with \`iii-harness chat --session ${sent.session_id}\`\n`,
            ),
          );
        return;
      }
      process.exitCode = await followTurn(client, sessionId, text, choice, options);
    } finally {
      await demo?.shutdown().catch(() => undefined);
    }
  });
}

/** Send, then print the turn's events until it ends; resolves with the exit code. */
async function followTurn(
  client: HarnessClient,
  sessionId: string,
  text: string,
  choice: { provider: string; model: string },
  options: SendOptions,
): Promise<number> {
  const out = new TurnPrinter(options.json);
  let turnId: string | undefined;
  const early: AgentEvent[] = [];
  let finish!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });

  const onEvent = (event: AgentEvent) => {
    if (!turnId) return void early.push(event);
    if (event.turn_id !== turnId) return;
    out.print(event);
    if (event.type === 'approval_requested') {
      process.stderr.write(
        `${c.yellow('waiting for approval:')} ${event.function_id} (call ${event.function_call_id}): \`iii-harness approve allow ${event.function_call_id}\` or \`deny\`\n`,
      );
      if (!options.waitApproval) finish(EXIT.waitingApproval);
    }
    if (event.type === 'turn_completed') finish(OUTCOME_EXIT[event.status]);
  };

  const feed = new EventFeed(
    { follow: (id, fn) => client.followAgentEvents(id, fn), list: (id) => client.agentEvents(id) },
    sessionId,
    (events) => {
      for (const event of events) onEvent(event);
    },
    await currentSeq(client, sessionId),
  );
  await feed.start();
  let aborts = 0;
  const onSigint = () => {
    aborts++;
    if (aborts > 1) finish(EXIT.aborted);
    else {
      process.stderr.write(c.dim('aborting the turn (Ctrl-C again to stop waiting)\n'));
      void client.abort(sessionId).catch(() => undefined);
    }
  };
  process.on('SIGINT', onSigint);
  const timer = options.timeout
    ? setTimeout(() => {
        process.stderr.write(
          `iii-harness: the turn is still running after ${options.timeout} s (session ${sessionId})\n`,
        );
        finish(EXIT.failed);
      }, options.timeout * 1000)
    : undefined;
  try {
    const sent = await client.send({ session_id: sessionId, text, ...choice });
    turnId = sent.turn_id;
    if (!turnId) throw new CliError('the harness accepted the message but reported no turn');
    for (const event of early.splice(0)) onEvent(event);
    return await done;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSigint);
    feed.stop();
    out.end();
  }
}

/**
 * `--json`: every event of the turn as one JSON line. Otherwise the transcript as text: the
 * answer on stdout, and on a pipe everything else (calls, approvals, the usage line) on stderr
 * so that stdout is just the answer.
 */
class TurnPrinter {
  private readonly transcript = new Transcript();
  private printed = 0;
  private readonly tty = process.stdout.isTTY === true;

  constructor(private readonly json: boolean) {}

  print(event: AgentEvent): void {
    if (this.json) return void process.stdout.write(`${JSON.stringify(event)}\n`);
    this.transcript.apply(event);
    this.flush();
  }

  private flush(): void {
    const width = process.stdout.columns ?? 100;
    for (const item of this.transcript.items.slice(this.printed)) {
      if (item.kind === 'markdown' && !this.tty)
        process.stdout.write(item.text.endsWith('\n') ? item.text : `${item.text}\n`);
      else (this.tty ? process.stdout : process.stderr).write(`${renderItemText(item, width)}\n`);
    }
    this.printed = this.transcript.items.length;
  }

  end(): void {
    if (!this.json) this.flush();
  }
}
