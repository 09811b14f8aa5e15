import { ackInbox, appendMessage, appendNotice, inboxMessage, peekFirstInbox } from '../transcript.js';
import type { Turn } from '../turn.js';

const INBOXES = ['steering', 'followup'];

/**
 * Between generations: fold in what people sent meanwhile (steering first, then follow-ups),
 * then ask the model again if there is anything new for it, unless max_turns is reached.
 * Inbox items are appended under their own ids before they are acknowledged, so a crash in
 * between neither loses nor duplicates one.
 */
export async function steeringCheck(turn: Turn): Promise<void> {
  const { bus } = turn.deps;
  const record = turn.record;
  const { name, items } = await peekFirstInbox(bus, record.session_id, INBOXES);
  if (name && items.length > 0) {
    for (const item of items) {
      const message = inboxMessage(item.item);
      if (message) await appendMessage(bus, record.session_id, `inbox:${item.id}`, message);
    }
    await ackInbox(
      bus,
      record.session_id,
      name,
      items.map((i) => i.id),
    );
    record.continue_pending = true;
  }
  if (!record.continue_pending) return turn.finish('stopped', 'completed');
  if (record.turn_count >= record.max_turns) {
    await appendNotice(
      bus,
      record.session_id,
      `${record.turn_id}:max_turns`,
      `The turn stopped after ${record.max_turns} model calls (max_turns).`,
    );
    return turn.finish('stopped', 'max_turns');
  }
  record.continue_pending = false;
  await turn.moveTo('assistant_streaming');
}
