import { Command, type CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT } from './errors.js';

/**
 * Every command and flag of `iii-harness`. Each command's module is loaded only when it runs,
 * so `--help` stays instant and the terminal UI is loaded only by `chat`.
 */

export interface GlobalOptions {
  url?: string;
}

const int = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return Number(value);
};
const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const EXAMPLES = `
Start here:
  $ iii-harness init                 # config.yaml + iii-permissions.yaml in this directory
  $ iii-harness dev                  # the engine and every worker, logs under ./.iii-data/logs
  $ iii-harness chat                 # talk to the agent (another terminal)
  $ iii-harness chat --provider demo # no key? the offline, scripted demo

Exit codes: 0 ok, 1 failed, 2 bad usage, 3 turn aborted, 4 waiting for approval (send --no-wait-approval).
Environment: III_URL (engine address), NO_COLOR (plain output).`;

export function buildProgram(version: string): Command {
  const program = new Command('iii-harness')
    .description('Run, chat with, approve and inspect the iii agent harness.')
    .version(version, '-v, --version', 'print the version')
    .option('--url <ws-url>', 'engine address (default: $III_URL or ws://127.0.0.1:49134)')
    .option('--no-color', 'plain output (also: NO_COLOR=1)')
    .helpCommand('help [command]', 'show help for a command')
    .showSuggestionAfterError(true)
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) =>
        write(
          `iii-harness: ${text
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')}\n`,
        ),
    })
    .exitOverride()
    .addHelpText('after', EXAMPLES);

  const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals() as GlobalOptions;

  program
    .command('init')
    .description('write a starter config.yaml and iii-permissions.yaml (never overwrites a file)')
    .option('--dir <dir>', 'where to write them', '.')
    .addHelpText('after', '\nExample:\n  $ iii-harness init && iii-harness dev')
    .action(async (options: { dir: string }) => (await import('./commands/init.js')).runInit(options));

  program
    .command('dev')
    .description('start the dev engine and every worker; logs go to files, Ctrl-C stops everything')
    .option('--port <n>', "engine worker port (default: $III_URL's port, else 49134)", int('--port'))
    .option('--http-port <n>', 'engine HTTP trigger port (0 = any free port)', int('--http-port'), 3111)
    .option(
      '--console-port <n>',
      'web console port (0 = any free port; default: config, else 3113)',
      int('--console-port'),
    )
    .option('--data-dir <dir>', 'engine data and logs', './.iii-data')
    .option('--memory', 'keep engine state in memory (nothing survives a restart)', false)
    .option('--config <file>', 'worker config YAML (default: ./config.yaml when it exists)')
    .option('--only <workers>', 'start only these workers (comma-separated)', list)
    .option('--demo', 'also start the offline demo provider (scripted answers, no key)', false)
    .addOption(
      new Option('--log-level <level>', 'log level of every process')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
        .default('info'),
    )
    .option('--chat', 'open a chat in this terminal once everything is up (what `npm start` does)', false)
    .option('--provider <id>', 'with --chat: the provider to chat with')
    .option('--model <id>', 'with --chat: the model')
    .addHelpText(
      'after',
      '\nExamples:\n  $ iii-harness dev\n  $ iii-harness dev --memory --port 49200 --only session,harness,approval-gate,turn-orchestrator\n  $ iii-harness dev --demo --chat --provider demo',
    )
    .action(async (options, cmd: Command) => (await import('./commands/dev.js')).runDev(options, globals(cmd)));

  program
    .command('chat')
    .description('chat with the agent in this terminal (streaming answers, inline approvals, slash commands)')
    .option('--session <id>', 'resume a session (default: a new one)')
    .option('--provider <id>', 'provider to use (`iii-harness models` lists them; `demo` is the offline demo)')
    .option('--model <id>', 'model to use')
    .addHelpText(
      'after',
      '\nKeys: Enter sends, Alt-Enter / Ctrl-J / a trailing \\ adds a line, ↑/↓ history, Esc or Ctrl-C stops the turn,\nCtrl-C twice exits, Ctrl-O expands the last call. Type /help inside for the slash commands.\n\nExamples:\n  $ iii-harness chat\n  $ iii-harness chat --provider anthropic --model claude-sonnet-4-5\n  $ iii-harness chat --session 0199a3c2-...',
    )
    .action(async (options, cmd: Command) => (await import('./commands/chat.js')).runChat(options, globals(cmd)));

  program
    .command('send')
    .description('send one message and (with --wait or --json) follow the turn to its end')
    .argument('<text...>', 'the message')
    .option('--session <id>', 'session to continue (default: a new one)')
    .option('--provider <id>', 'provider to use')
    .option('--model <id>', 'model to use')
    .option('--wait', 'follow the turn and print the answer', false)
    .option('--json', 'print every agent event as a JSON line (implies --wait)', false)
    .option('--no-wait-approval', 'exit with code 4 as soon as a call waits for approval')
    .option('--timeout <seconds>', 'give up following after this long (exit 1)', int('--timeout'))
    .addHelpText(
      'after',
      '\nExit codes: 0 stopped, 1 failed, 2 bad usage, 3 aborted, 4 waiting for approval (--no-wait-approval).\n\nExamples:\n  $ iii-harness send "summarize README.md" --wait\n  $ iii-harness send "hi" --json | jq -c \'select(.type=="turn_completed")\'\n  $ iii-harness send "clean up" --session $S --wait --no-wait-approval; echo $?',
    )
    .action(async (words: string[], options, cmd: Command) =>
      (await import('./commands/send.js')).runSend(words.join(' '), options, globals(cmd)),
    );

  const sessions = program
    .command('sessions')
    .description('list, show, export and remove sessions')
    .addHelpText(
      'after',
      '\nExamples:\n  $ iii-harness sessions\n  $ iii-harness sessions show <id>\n  $ iii-harness sessions export <id> --format markdown -o chat.md\n  $ iii-harness sessions rm <id>',
    );
  const sessionsLs = (options: { limit: number; json: boolean }, cmd: Command) =>
    import('./commands/sessions.js').then((m) => m.listSessions(options, globals(cmd)));
  sessions
    .command('ls', { isDefault: true })
    .description('sessions, newest first')
    .option('--limit <n>', 'how many', int('--limit'), 20)
    .option('--json', 'print JSON', false)
    .action(sessionsLs);
  sessions
    .command('show')
    .description("a session's conversation (the active branch)")
    .argument('<id>', 'session id')
    .option('--json', 'print JSON', false)
    .action(async (id: string, options, cmd: Command) =>
      (await import('./commands/sessions.js')).showSession(id, options, globals(cmd)),
    );
  sessions
    .command('export')
    .description('export a session as markdown, jsonl or html')
    .argument('<id>', 'session id')
    .addOption(
      new Option('--format <format>', 'output format').choices(['markdown', 'jsonl', 'html']).default('markdown'),
    )
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (id: string, options, cmd: Command) =>
      (await import('./commands/sessions.js')).exportSession(id, options, globals(cmd)),
    );
  sessions
    .command('rm')
    .description('delete a session with all its entries')
    .argument('<id>', 'session id')
    .action(async (id: string, _options, cmd: Command) =>
      (await import('./commands/sessions.js')).removeSession(id, globals(cmd)),
    );

  const approve = program
    .command('approve')
    .description('list and decide function calls waiting for a human')
    .addHelpText(
      'after',
      '\nExamples:\n  $ iii-harness approve ls\n  $ iii-harness approve allow <call-id>\n  $ iii-harness approve allow <call-id> --always\n  $ iii-harness approve deny <call-id> --reason "not on prod"',
    );
  approve
    .command('ls', { isDefault: true })
    .description('calls waiting for approval')
    .option('--session <id>', 'only this session')
    .option('--json', 'print JSON', false)
    .action(async (options, cmd: Command) => (await import('./commands/approve.js')).listHolds(options, globals(cmd)));
  approve
    .command('allow')
    .description('allow a held call')
    .argument('<call-id>', 'function call id (from `approve ls`)')
    .option('--session <id>', 'the session (needed only when the call id is ambiguous)')
    .option('--always', 'allow this function for the rest of the session', false)
    .action(async (callId: string, options, cmd: Command) =>
      (await import('./commands/approve.js')).decide(callId, 'allow', options, globals(cmd)),
    );
  approve
    .command('deny')
    .description('deny a held call (the model gets the reason)')
    .argument('<call-id>', 'function call id (from `approve ls`)')
    .option('--session <id>', 'the session (needed only when the call id is ambiguous)')
    .option('--reason <text>', 'why (the model reads it)')
    .action(async (callId: string, options, cmd: Command) =>
      (await import('./commands/approve.js')).decide(callId, 'deny', options, globals(cmd)),
    );

  const models = program
    .command('models')
    .description('models the providers registered')
    .addHelpText('after', '\nExamples:\n  $ iii-harness models\n  $ iii-harness models --provider anthropic --json');
  const modelsLs = async (options: { provider?: string; json: boolean }, cmd: Command) =>
    (await import('./commands/models.js')).listModels(options, globals(cmd));
  models
    .command('ls', { isDefault: true })
    .description('list models')
    .option('--provider <id>', 'only this provider')
    .option('--json', 'print JSON', false)
    .action(modelsLs);

  program
    .command('trace')
    .description('a turn as a waterfall of its spans (a session: every turn); `trace ls` lists recent turns')
    .argument('[id]', 'session id, turn id or trace id; `ls` lists turns; none: the latest turn')
    .option('--json', 'print JSON', false)
    .option('--limit <n>', 'with ls: how many turns', int('--limit'), 20)
    .option('--session <id>', 'with ls: only this session (without an id: its latest turn)')
    .option('--logs', 'print the log records of each span under it', false)
    .addHelpText(
      'after',
      "\nReads the engine's stored spans (engine::traces::*): the dev engine keeps them; a real iii engine with its\nobservability worker and the memory exporter does too. Workers send spans unless OTEL_ENABLED=false.\n\nExamples:\n  $ iii-harness trace ls\n  $ iii-harness trace 01a24aa2-3e9c-7000-945a-682b7b250019     # every turn of a session\n  $ iii-harness trace <turn-id> --json | jq '.turns[0].rows[] | select(.kind==\"wait\")'",
    )
    .action(async (id: string | undefined, options, cmd: Command) =>
      (await import('./commands/trace.js')).runTrace(id, options, globals(cmd)),
    );

  const budget = program
    .command('budget')
    .description('spending caps (llm-budget): list, show, create, change, remove, and what is spent and left')
    .addHelpText(
      'after',
      '\nAmounts are dollars (--usd 5, --usd 0.25); a cap is per period: day, week, month (calendar, in the budget\'s\ntime zone) or total. A call is checked against every budget covering its workspace, agent or session.\n\nExamples:\n  $ iii-harness budget create --workspace default --usd 5 --period day\n  $ iii-harness budget create --session $S --tokens 200000 --period total --name "this experiment"\n  $ iii-harness budget ls\n  $ iii-harness budget set <budget-id> --usd 10 --alerts 50,90\n  $ iii-harness budget usage --workspace default --session $S',
    );
  const scopeOptions = (cmd: Command, what: string) =>
    cmd
      .option('--workspace <id>', `${what} a workspace`)
      .option('--agent <id>', `${what} an agent`)
      .option('--session <id>', `${what} a session`);
  const capOptions = (cmd: Command) =>
    cmd
      .option('--usd <dollars>', 'cap in dollars per period (set: `none` removes it)')
      .option('--tokens <n>', 'cap in tokens per period (set: `none` removes it)')
      .addOption(
        new Option('--period <period>', 'day, week, month or total').choices(['day', 'week', 'month', 'total']),
      )
      .option('--tz <zone>', "IANA time zone where days, weeks and months start (default: the worker's, UTC)")
      .option('--name <text>', 'a name for people')
      .option('--alerts <pcts>', 'budget_alert thresholds in percent, comma-separated (default 50,80,100)');
  scopeOptions(
    budget.command('ls', { isDefault: true }).description('budgets with what is spent and left'),
    'only budgets covering',
  )
    .option('--json', 'print JSON', false)
    .action(async (options, cmd: Command) => (await import('./commands/budget.js')).listBudgets(options, globals(cmd)));
  budget
    .command('show')
    .description('one budget: caps, period, spend, what is left, forecast')
    .argument('<budget-id>', 'budget id (from `budget ls`)')
    .option('--json', 'print JSON', false)
    .action(async (id: string, options, cmd: Command) =>
      (await import('./commands/budget.js')).showBudget(id, options, globals(cmd)),
    );
  capOptions(scopeOptions(budget.command('create').description('create a budget on one scope'), 'cap'))
    .option('--allow-unpriced', 'under a USD cap, let models without a price through (they cost 0)')
    .option('--json', 'print JSON', false)
    .action(async (options, cmd: Command) =>
      (await import('./commands/budget.js')).createBudget(options, globals(cmd)),
    );
  capOptions(budget.command('set').description("change a budget's caps, period, zone, name or alerts"))
    .argument('<budget-id>', 'budget id')
    .option('--allow-unpriced', 'let models without a price through')
    .option('--no-allow-unpriced', 'refuse models without a price under a USD cap')
    .option('--json', 'print JSON', false)
    .action(async (id: string, options, cmd: Command) =>
      (await import('./commands/budget.js')).setBudget(id, options, globals(cmd)),
    );
  budget
    .command('rm')
    .description('delete a budget (calls stop being checked against it)')
    .argument('<budget-id>', 'budget id')
    .action(async (id: string, _options, cmd: Command) =>
      (await import('./commands/budget.js')).removeBudget(id, globals(cmd)),
    );
  scopeOptions(
    budget.command('usage').description('spent and left: of every budget covering the scopes (else of all)'),
    'covering',
  )
    .option('--json', 'print JSON', false)
    .action(async (options, cmd: Command) => (await import('./commands/budget.js')).budgetUsage(options, globals(cmd)));

  program
    .command('open')
    .description('open the web console in a browser (chat, approvals, models, traces, budgets)')
    .option('--console-url <url>', 'where the console is (default: $IIH_CONSOLE_URL, else http://127.0.0.1:3113)')
    .option('--print', 'only print the address (for a browser on another machine)', false)
    .addHelpText(
      'after',
      '\nOpens it with $BROWSER, else the platform opener (xdg-open, open, start); without one, prints the address.\nExit 1 when nothing answers there (the console is not running).\n\nExamples:\n  $ iii-harness open\n  $ iii-harness open --print',
    )
    .action(async (options, cmd: Command) => (await import('./commands/open.js')).runOpen(options, globals(cmd)));

  program
    .command('status')
    .description('what is running: engine, workers, providers, policy, live turns and held calls')
    .option('--json', 'print JSON', false)
    .option('--data-dir <dir>', 'data dir of `iii-harness dev` (for its processes)', './.iii-data')
    .addHelpText('after', '\nExample:\n  $ iii-harness status')
    .action(async (options, cmd: Command) => (await import('./commands/status.js')).runStatus(options, globals(cmd)));

  program
    .command('doctor')
    .description('check the setup and say how to fix each problem (exit 1 when something needs fixing)')
    .option('--json', 'print JSON', false)
    .option('--config <file>', 'the worker config YAML to check (default: ./config.yaml)')
    .addHelpText('after', '\nExample:\n  $ iii-harness doctor')
    .action(async (options, cmd: Command) => (await import('./commands/doctor.js')).runDoctor(options, globals(cmd)));

  program
    .command('logs')
    .description('show the logs `iii-harness dev` wrote (all processes, or one)')
    .argument('[process]', 'engine, or a worker name such as harness or provider-anthropic')
    .option('-f, --follow', 'keep printing new lines', false)
    .option('-n, --lines <n>', 'how many lines to show first', int('--lines'), 40)
    .option('--data-dir <dir>', 'data dir of `iii-harness dev`', './.iii-data')
    .option('--raw', 'print the JSON lines as written', false)
    .addHelpText('after', '\nExamples:\n  $ iii-harness logs\n  $ iii-harness logs harness -f')
    .action(async (name: string | undefined, options) => (await import('./commands/logs.js')).runLogs(name, options));

  const auth = program.command('auth').description('provider credentials (stored by the auth-credentials worker)');
  auth
    .command('set')
    .description("store a provider's API key (read from stdin when piped, else asked for without echo)")
    .argument('<provider>', 'provider id, e.g. anthropic')
    .addHelpText(
      'after',
      '\nExamples:\n  $ iii-harness auth set anthropic\n  $ printf %s "$KEY" | iii-harness auth set openai',
    )
    .action(async (provider: string, _options, cmd: Command) =>
      (await import('./commands/auth.js')).setKey(provider, globals(cmd)),
    );
  auth
    .command('status', { isDefault: true })
    .description('which providers have a key, and where it comes from (never the key)')
    .option('--json', 'print JSON', false)
    .action(async (options, cmd: Command) => (await import('./commands/auth.js')).keyStatus(options, globals(cmd)));

  return program;
}

/** Commander's own errors (unknown command, missing argument...) as our exit codes. */
export function commanderExit(error: CommanderError): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
  if (error.code === 'commander.help') return EXIT.ok;
  return EXIT.usage;
}
