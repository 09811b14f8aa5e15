import type { HarnessClient, Hold } from '../client.js';
import { usageError } from '../errors.js';
import type { GlobalOptions } from '../program.js';
import { formatArgs } from '../render/items.js';
import { c, printJson, table, when } from '../style.js';
import { withClient } from './common.js';

export async function listHolds(options: { session?: string; json: boolean }, globals: GlobalOptions): Promise<void> {
  await withClient(globals, async (client) => {
    const holds = await client.pendingHolds(options.session);
    if (options.json) return printJson({ pending: holds });
    if (holds.length === 0) {
      process.stdout.write('Nothing is waiting for approval.\n');
      return;
    }
    const rows = [
      ['CALL', 'FUNCTION', 'SESSION', 'SINCE', 'ARGUMENTS'].map((h) => c.dim(h)),
      ...holds.map((h) => [
        h.function_call_id,
        c.bold(h.function_id),
        h.session_id,
        when(h.requested_at),
        c.dim(formatArgs(h.args, 50)),
      ]),
    ];
    process.stdout.write(`${table(rows)}\n${c.dim('iii-harness approve allow|deny <call> decides one.')}\n`);
  });
}

/** The one pending hold with this call id (in the given session, if one was named). */
async function findHold(client: HarnessClient, callId: string, session?: string): Promise<Hold> {
  const matches = (await client.pendingHolds(session)).filter((h) => h.function_call_id === callId);
  if (matches.length === 0)
    throw usageError(
      `no call ${callId} is waiting for approval${session ? ` in session ${session}` : ''} (\`iii-harness approve ls\` lists them)`,
    );
  if (matches.length > 1)
    throw usageError(`call ${callId} is waiting in ${matches.length} sessions: name one with --session`);
  return matches[0]!;
}

export async function decide(
  callId: string,
  decision: 'allow' | 'deny',
  options: { session?: string; always?: boolean; reason?: string },
  globals: GlobalOptions,
): Promise<void> {
  await withClient(globals, async (client) => {
    const hold = await findHold(client, callId, options.session);
    const answer = await client.resolve(hold.session_id, callId, decision, {
      ...(options.reason ? { reason: options.reason } : {}),
      ...(options.always ? { always: true } : {}),
    });
    const verb = answer.decision === 'allow' ? c.green('allowed') : c.red('denied');
    process.stdout.write(
      answer.already_resolved
        ? `${hold.function_id} was already decided: ${answer.decision}\n`
        : `${verb} ${hold.function_id}${options.always ? ' (and for the rest of the session)' : ''}\n`,
    );
  });
}
