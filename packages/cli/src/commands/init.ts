import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { c, sym } from '../style.js';

/** What `iii-harness init` writes. Each worker of `iii-harness dev` reads its own section. */
export const STARTER_CONFIG = `# config.yaml: settings for the workers \`iii-harness dev\` starts (each reads its own section).
# Every key is optional; the README of each worker package lists them all.

harness:
  # The permission rules below; re-read when the file changes.
  permissions_path: ./iii-permissions.yaml
  # The provider and model a message uses when it names none (chat and send pick one otherwise).
  # default_provider: anthropic
  # default_model: claude-sonnet-4-5

approval-gate:
  # manual: ask for anything the rules do not allow · auto: allow unless denied · full: allow all but the kernel list
  default_mode: manual

turn-orchestrator:
  # Model calls per turn before the turn ends with a notice.
  default_max_turns: 16
`;

export const STARTER_POLICY = `# iii-permissions.yaml: what agents may call without asking. Read by the harness worker.
#
# The first rule that matches decides. No match: the call is held and you are asked
# (inline in \`iii-harness chat\`, or \`iii-harness approve\`). A leading ! denies (quote it).
# A kernel deny list comes first and no rule can lift it: the harness's own controls
# (approval::*, policy::*, run::*, turn::*, credentials, transcript writes, ...).
# Full syntax: packages/harness/iii-permissions.example.yaml

version: 1
rules:
  # Destructive: never, whatever comes later (examples for the shell worker, if you add it).
  - rule_id: no-rm-rf
    function: shell::exec
    action: deny
    args:
      command: { matches: '^\\s*(sudo\\s+)?rm\\s+-[a-zA-Z]*[rf]' }
  - '!shell::fs::delete'
  - '!*::delete'

  # Read-only and harmless: allowed without asking.
  - engine::functions::list
  - engine::functions::info
  - models::list
  - models::get
  - models::supports
  - session::get
  - session::messages
  - state::get
  - state::list
  - '*::list'
  - demo::clock

  # Everything else: you are asked.
`;

export function runInit(options: { dir: string }): void {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const files = [
    {
      name: 'config.yaml',
      text: STARTER_CONFIG,
      says: 'worker settings for `iii-harness dev` (permissions file, approval mode, turn limit)',
    },
    {
      name: 'iii-permissions.yaml',
      text: STARTER_POLICY,
      says: 'read-only functions allowed, destructive examples denied, everything else asks you',
    },
  ];
  const shown = (path: string) => relative(process.cwd(), path) || path;
  for (const file of files) {
    const path = join(dir, file.name);
    if (existsSync(path)) {
      process.stdout.write(`${sym.warn()} ${shown(path)} exists: left as it is\n`);
      continue;
    }
    writeFileSync(path, file.text, { flag: 'wx' });
    process.stdout.write(`${sym.ok()} wrote ${c.bold(shown(path))}: ${file.says}\n`);
  }
  process.stdout.write(
    `\nNext: ${c.bold('iii-harness dev')} (starts everything), then ${c.bold('iii-harness chat')} in another terminal.\n` +
      `No API key yet? ${c.bold('iii-harness chat --provider demo')} runs an offline, scripted demo.\n`,
  );
}
