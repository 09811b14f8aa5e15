import { writeFileSync } from 'node:fs';
import { Transcript } from '../chat/transcript.js';
import type { ExportFormat } from '../client.js';
import { usageError } from '../errors.js';
import type { GlobalOptions } from '../program.js';
import { renderItemText } from '../render/items.js';
import { c, clip, printJson, table, when } from '../style.js';
import { withClient } from './common.js';

const unknownSession = (id: string) => usageError(`there is no session ${id} (\`iii-harness sessions\` lists them)`);

export async function listSessions(options: { limit: number; json: boolean }, globals: GlobalOptions): Promise<void> {
  await withClient(globals, async (client) => {
    const page = await client.listSessions(options.limit);
    if (options.json) return printJson(page);
    if (page.sessions.length === 0) {
      process.stdout.write('No sessions yet. Start one with `iii-harness chat` or `iii-harness send "hi" --wait`.\n');
      return;
    }
    const rows = [
      ['SESSION', 'UPDATED', 'ENTRIES', 'LAST MESSAGE'].map((h) => c.dim(h)),
      ...page.sessions.map((s) => [
        s.session_id,
        when(s.updated_at),
        String(s.entry_count),
        s.last_message ? `${c.dim(`${s.last_message.role}:`)} ${clip(s.last_message.text, 60)}` : '',
      ]),
    ];
    process.stdout.write(`${table(rows)}\n`);
    if (page.total > page.sessions.length)
      process.stdout.write(c.dim(`${page.sessions.length} of ${page.total} (--limit for more)\n`));
  });
}

export async function showSession(id: string, options: { json: boolean }, globals: GlobalOptions): Promise<void> {
  await withClient(globals, async (client) => {
    const session = await client.getSession(id);
    if (!session) throw unknownSession(id);
    const [path, events] = await Promise.all([client.messages(id), client.agentEvents(id).catch(() => [])]);
    // What providers could not carry is not in the messages: it is in the turns' events.
    const warnings = events.flatMap((e) => (e.type === 'provider_warning' ? [e] : []));
    if (options.json) return printJson({ session, ...path, provider_warnings: warnings });
    const transcript = new Transcript();
    transcript.history(path.messages, path.compaction_entry_id);
    for (const warning of warnings) transcript.apply(warning);
    const turn = await client.turnState(id);
    process.stdout.write(
      `${c.bold(`Session ${id}`)} ${c.dim(`created ${when(session.created_at)} · ${session.entry_count} entries`)}\n\n`,
    );
    for (const item of transcript.items)
      process.stdout.write(`${renderItemText(item, process.stdout.columns ?? 100)}\n`);
    if (turn)
      process.stdout.write(
        `\n${c.dim(`last turn ${turn.turn_id}: ${turn.outcome ?? turn.state}${turn.pending_approvals.length ? `, ${turn.pending_approvals.length} call(s) waiting for approval` : ''}`)}\n`,
      );
  });
}

export async function exportSession(
  id: string,
  options: { format: ExportFormat; output?: string },
  globals: GlobalOptions,
): Promise<void> {
  await withClient(globals, async (client) => {
    if (!(await client.getSession(id))) throw unknownSession(id);
    const { content } = await client.exportSession(id, options.format);
    if (options.output) {
      writeFileSync(options.output, content);
      process.stderr.write(`wrote ${options.output}\n`);
    } else process.stdout.write(content.endsWith('\n') ? content : `${content}\n`);
  });
}

export async function removeSession(id: string, globals: GlobalOptions): Promise<void> {
  await withClient(globals, async (client) => {
    if (!(await client.getSession(id))) throw unknownSession(id);
    const { deleted_entries } = await client.deleteSession(id);
    process.stdout.write(`deleted session ${id} (${deleted_entries} entries)\n`);
  });
}
