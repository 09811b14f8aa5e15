import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { HarnessClient } from '../client.js';
import { formatArgs } from '../render/items.js';
import { c, clip, formatCost, formatTokens, table, when } from '../style.js';
import type { ChatController } from './controller.js';
import type { Transcript } from './transcript.js';
import { renderTree } from './tree.js';

export interface SlashContext {
  chat: ChatController;
  client: HarnessClient;
  transcript: Transcript;
}

interface SlashCommand {
  name: string;
  args?: string;
  description: string;
  run(ctx: SlashContext, args: string[]): Promise<void> | void;
}

const output = (ctx: SlashContext, text: string) => ctx.transcript.add({ kind: 'output', text });
const busyTurn = (ctx: SlashContext, what: string) => {
  if (!ctx.transcript.turnLive) return false;
  ctx.transcript.notice(`${what} waits until the running turn ends (Esc stops it)`, 'warn');
  return true;
};

const KEYS = [
  ['Enter', 'send (while a turn runs: steer it)'],
  ['Alt-Enter, Ctrl-J, or \\ at the end', 'new line'],
  ['↑ / ↓', 'move between lines, then through the history'],
  ['Esc', 'stop the running turn'],
  ['Ctrl-C', 'stop the turn / clear the input; twice: exit'],
  ['Ctrl-O', 'expand the last call or thought (/expand <n> for any)'],
  ['a / A / d', 'when a call waits: allow once / always / deny with a reason'],
];

async function pickModel(ctx: SlashContext, wanted?: string): Promise<void> {
  const models = await ctx.client.models();
  const choose = (value: string) => {
    const [provider, ...rest] = value.split('/');
    ctx.chat.provider = provider!;
    ctx.chat.model = rest.join('/');
    ctx.transcript.notice(`model: ${value} (from the next message)`);
  };
  if (wanted) {
    const found = models.find((m) => `${m.provider}/${m.id}` === wanted || m.id === wanted);
    if (!found) return ctx.transcript.notice(`no model ${wanted} in the catalog (/model lists them)`, 'warn');
    return choose(`${found.provider}/${found.id}`);
  }
  ctx.chat.openPicker(
    'Model',
    models
      .sort((a, b) => `${a.provider}/${a.id}`.localeCompare(`${b.provider}/${b.id}`))
      .map((m) => ({
        label: `${m.provider}/${m.id}`,
        value: `${m.provider}/${m.id}`,
        hint: `${formatTokens(m.context_window)} ctx${m.pricing ? ` · $${m.pricing.input}/$${m.pricing.output} per 1M` : ''}`,
      })),
    choose,
  );
}

async function listSessions(ctx: SlashContext): Promise<void> {
  const { sessions } = await ctx.client.listSessions(15);
  if (!sessions.length) return ctx.transcript.notice('no sessions yet');
  output(
    ctx,
    table(
      sessions.map((s) => [
        s.session_id === ctx.chat.sessionId ? c.green('●') : ' ',
        s.session_id,
        c.dim(when(s.updated_at)),
        s.last_message ? clip(s.last_message.text, 50) : '',
      ]),
    ) + c.dim('\n/resume <id> switches to one'),
  );
}

async function resume(ctx: SlashContext, id?: string): Promise<void> {
  if (busyTurn(ctx, '/resume')) return;
  if (id) {
    if (!(await ctx.client.getSession(id))) return ctx.transcript.notice(`there is no session ${id}`, 'warn');
    return ctx.chat.openSession(id);
  }
  const { sessions } = await ctx.client.listSessions(50);
  ctx.chat.openPicker(
    'Resume a session',
    sessions.map((s) => ({
      label: s.session_id,
      value: s.session_id,
      hint: `${when(s.updated_at)} · ${s.last_message ? clip(s.last_message.text, 40) : 'empty'}`,
    })),
    (value) => ctx.chat.openSession(value),
  );
}

/** User messages of the active path, with the entry each hangs under. */
async function userTurns(ctx: SlashContext) {
  const { messages } = await ctx.client.messages(ctx.chat.sessionId).catch(() => ({ messages: [] }));
  return messages.flatMap((m, i) =>
    m.message.role === 'user'
      ? [
          {
            entry_id: m.entry_id,
            parent: i > 0 ? messages[i - 1]!.entry_id : null,
            text:
              typeof m.message.content === 'string'
                ? m.message.content
                : m.message.content.map((b) => (b.type === 'text' ? b.text : '')).join(''),
          },
        ]
      : [],
  );
}

/**
 * `/fork [n]`: go back to before your n-th message (default: the last) and branch from there; the
 * message is put back in the input to edit, and the old branch stays in `/tree`.
 * `/fork new`: copy this conversation into a new session and continue there.
 */
async function fork(ctx: SlashContext, args: string[]): Promise<void> {
  if (busyTurn(ctx, '/fork')) return;
  const turns = await userTurns(ctx);
  if (args[0] === 'new') {
    const leaf = (await ctx.client.getSession(ctx.chat.sessionId))?.leaf_id;
    if (!leaf) return ctx.transcript.notice('nothing to fork yet', 'warn');
    const { session } = await ctx.client.fork(ctx.chat.sessionId, leaf);
    ctx.transcript.notice(`forked into a new session ${session.session_id}`);
    return ctx.chat.openSession(session.session_id);
  }
  if (turns.length === 0) return ctx.transcript.notice('nothing to fork yet: send a message first', 'warn');
  const n = args[0] ? Number(args[0]) : turns.length;
  const turn = Number.isInteger(n) && n >= 1 ? turns[n - 1] : undefined;
  if (!turn) return ctx.transcript.notice(`there is no message ${args[0]} (1-${turns.length})`, 'warn');
  await ctx.client.setLeaf(ctx.chat.sessionId, turn.parent);
  ctx.chat.editor.set(turn.text);
  ctx.transcript.notice(
    `branched before your message ${n}: edit it and press Enter; the old branch stays (/tree shows both)`,
  );
}

async function tree(ctx: SlashContext): Promise<void> {
  const view = await ctx.client.tree(ctx.chat.sessionId).catch(() => undefined);
  if (!view || view.nodes.length === 0) return ctx.transcript.notice('the session is empty');
  const { text, leaves } = renderTree(view);
  output(ctx, `${c.bold('Session tree')}\n${text}`);
  if (leaves.length < 2 || ctx.transcript.turnLive) return;
  ctx.chat.openPicker(
    'Switch to a branch',
    leaves.map((leaf) => ({
      label: `${leaf.active ? '● ' : '  '}${stripVTControlCharacters(leaf.label)}`,
      value: leaf.entry_id,
    })),
    async (entryId) => {
      await ctx.client.setLeaf(ctx.chat.sessionId, entryId);
      await ctx.chat.openSession(ctx.chat.sessionId);
    },
  );
}

async function approve(ctx: SlashContext): Promise<void> {
  const holds = await ctx.client.pendingHolds();
  if (!holds.length) return ctx.transcript.notice('nothing is waiting for approval');
  ctx.chat.openPicker(
    'Waiting for approval',
    holds.map((h) => ({
      label: `${h.function_id}${formatArgs(h.args, 40)}`,
      value: `${h.session_id}\u0000${h.function_call_id}`,
      hint: h.session_id === ctx.chat.sessionId ? 'this session' : `session ${h.session_id}`,
    })),
    (value) => {
      const [sessionId, callId] = value.split('\u0000') as [string, string];
      const hold = holds.find((h) => h.function_call_id === callId && h.session_id === sessionId)!;
      ctx.chat.openPicker(
        `${hold.function_id}`,
        [
          { label: 'allow once', value: 'allow' },
          { label: `always allow ${hold.function_id} in that session`, value: 'always' },
          { label: 'deny', value: 'deny' },
        ],
        async (decision) => {
          await ctx.client.resolve(sessionId, callId, decision === 'deny' ? 'deny' : 'allow', {
            always: decision === 'always',
          });
          ctx.transcript.notice(`${decision === 'deny' ? 'denied' : 'allowed'} ${hold.function_id}`);
        },
      );
    },
  );
}

async function mode(ctx: SlashContext, wanted?: string): Promise<void> {
  const modes = ['manual', 'auto', 'full'] as const;
  const set = async (value: string) => {
    const settings = await ctx.client.setMode(ctx.chat.sessionId, value as (typeof modes)[number]);
    ctx.transcript.notice(`approval mode: ${settings.mode}`);
  };
  if (wanted) {
    if (!(modes as readonly string[]).includes(wanted))
      return ctx.transcript.notice(`modes: ${modes.join(', ')}`, 'warn');
    return set(wanted);
  }
  const current = await ctx.client.approvalSettings(ctx.chat.sessionId).catch(() => undefined);
  ctx.chat.openPicker(
    `Approval mode${current ? ` (now ${current.mode})` : ''}`,
    [
      { label: 'manual', value: 'manual', hint: 'ask for anything the rules do not allow' },
      { label: 'auto', value: 'auto', hint: 'allow anything the rules do not deny' },
      { label: 'full', value: 'full', hint: 'allow everything except the kernel deny list' },
    ],
    set,
  );
}

async function exportSession(ctx: SlashContext, args: string[]): Promise<void> {
  const formats = { markdown: 'md', md: 'md', jsonl: 'jsonl', html: 'html' } as const;
  const format = (args[0] ?? 'markdown') as keyof typeof formats;
  if (!(format in formats)) return ctx.transcript.notice('formats: markdown, jsonl, html', 'warn');
  const wire = format === 'md' ? 'markdown' : format;
  const file = resolve(args[1] ?? `iii-session-${ctx.chat.sessionId}.${formats[format]}`);
  const { content } = await ctx.client.exportSession(ctx.chat.sessionId, wire);
  writeFileSync(file, content);
  ctx.transcript.notice(`exported to ${file}`);
}

async function cost(ctx: SlashContext): Promise<void> {
  const ends = (await ctx.client.agentEvents(ctx.chat.sessionId)).flatMap((e) =>
    e.type === 'turn_completed' ? [e] : [],
  );
  const sum = (f: (e: (typeof ends)[number]) => number) => ends.reduce((n, e) => n + f(e), 0);
  const priced = ends.filter((e) => (e.cost_usd ?? e.usage.cost_usd) !== undefined);
  output(
    ctx,
    `${c.bold('This session')}: ${ends.length} turn(s) · ${formatTokens(sum((e) => e.usage.input_tokens))} in / ${formatTokens(sum((e) => e.usage.output_tokens))} out` +
      ` · ${priced.length ? formatCost(sum((e) => e.cost_usd ?? e.usage.cost_usd ?? 0)) : 'cost unknown'}` +
      (priced.length && priced.length < ends.length
        ? c.dim(` (${ends.length - priced.length} turn(s) without pricing)`)
        : ''),
  );
  await ctx.chat.showBudgets(true);
}

async function compact(ctx: SlashContext, args: string[]): Promise<void> {
  if (busyTurn(ctx, '/compact')) return;
  if (!(await ctx.client.compactionAvailable()))
    return ctx.transcript.notice(
      'compaction is not available: the context-compaction worker is not running (`iii-harness dev` starts it once it is installed)',
      'warn',
    );
  ctx.chat.setStatus('compacting…');
  try {
    const result = await ctx.client.compact(ctx.chat.sessionId, args.join(' ') || undefined);
    ctx.transcript.notice(
      `${result.status}: ${result.tokens_before} → ${result.tokens_after} tokens (window ${result.usable_tokens})${result.message ? ` · ${result.message}` : ''}`,
    );
  } finally {
    ctx.chat.setStatus(undefined);
  }
}

const SLASH_COMMANDS: SlashCommand[] = [
  {
    name: '/help',
    description: 'commands and keys',
    run: (ctx) =>
      output(
        ctx,
        `${c.bold('Commands')}\n${table(
          SLASH_COMMANDS.map((s) => [`${s.name}${s.args ? ` ${s.args}` : ''}`, c.dim(s.description)]),
          { indent: 2 },
        )}\n${c.bold('Keys')}\n${table(
          KEYS.map(([k, d]) => [k!, c.dim(d!)]),
          { indent: 2 },
        )}`,
      ),
  },
  {
    name: '/model',
    args: '[provider/model]',
    description: 'pick the model (from models::list)',
    run: (ctx, a) => pickModel(ctx, a[0]),
  },
  { name: '/sessions', description: 'recent sessions', run: listSessions },
  { name: '/resume', args: '[id]', description: 'switch to another session', run: (ctx, a) => resume(ctx, a[0]) },
  {
    name: '/new',
    description: 'start a new session',
    run: (ctx) => (busyTurn(ctx, '/new') ? undefined : ctx.chat.newSession()),
  },
  {
    name: '/fork',
    args: '[n | new]',
    description: 'branch before your last (or n-th) message; new: copy to a new session',
    run: fork,
  },
  { name: '/tree', description: 'the session tree; switch branch', run: tree },
  { name: '/compact', args: '[focus]', description: 'summarize the conversation to free context', run: compact },
  { name: '/approve', description: 'calls waiting for approval (all sessions)', run: approve },
  {
    name: '/mode',
    args: '[manual|auto|full]',
    description: 'approval mode of this session',
    run: (ctx, a) => mode(ctx, a[0]),
  },
  {
    name: '/export',
    args: '[markdown|jsonl|html] [file]',
    description: 'write the session to a file',
    run: exportSession,
  },
  { name: '/cost', description: 'tokens and cost of this session, and what its budgets have left', run: cost },
  {
    name: '/expand',
    args: '[n]',
    description: 'a call (#n) or thought in full',
    run: (ctx, a) => {
      const ref = a[0] ? Number(a[0]) : ctx.transcript.lastExpandable();
      if (ref === undefined || !ctx.transcript.expand(ref))
        ctx.transcript.notice(`nothing to expand${a[0] ? ` at #${a[0]}` : ''}`, 'warn');
    },
  },
  { name: '/quit', description: 'exit (also /exit, Ctrl-C twice)', run: (ctx) => ctx.chat.exit() },
];

const ALIASES: Record<string, string> = { '/exit': '/quit', '/q': '/quit', '/h': '/help', '/?': '/help' };

export async function runSlash(ctx: SlashContext, line: string): Promise<void> {
  const [head = '', ...args] = line.trim().split(/\s+/);
  const name = ALIASES[head] ?? head;
  const command = SLASH_COMMANDS.find((s) => s.name === name);
  if (!command) return ctx.transcript.notice(`unknown command ${head} (/help lists them)`, 'warn');
  await command.run(ctx, args);
}

/** Commands matching what is typed, while the first word is being typed. */
export function slashCompletions(text: string): string[] {
  if (!text.startsWith('/') || /\s/.test(text)) return [];
  return SLASH_COMMANDS.filter((s) => s.name.startsWith(text)).map((s) => `${s.name}${s.args ? ` ${s.args}` : ''}`);
}
