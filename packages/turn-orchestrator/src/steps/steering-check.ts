import { contracts } from '@iii-harness/types';
import type { OutboxEntry, TurnRecord } from '../record.js';
import { inboxEntry, noticeEntry } from '../transcript.js';
import type { StepResult, TurnRun } from '../turn.js';

const INBOXES = ['steering', 'followup'];

/**
 * Between generations: fold in what people sent meanwhile (steering first, then follow-ups),
 * then ask the model again if there is anything new for it, unless max_turns generations were
 * made. The inbox messages are appended by the transition's save, and their items acknowledged
 * after that — so a crash in between neither loses nor duplicates one. The inboxes are read only
 * when the session's last answer (the append of this turn's news) did not say they are empty.
 */
export async function steeringCheck(run: TurnRun): Promise<StepResult> {
  const record = run.record;
  // The append that just wrote this turn's news said whether anything waits: no need to look.
  const { name, items } = run.transcript.inboxesKnownEmpty()
    ? { name: undefined, items: [] }
    : await run.patient(contracts.session.inboxPeekFirst.id, () => run.transcript.peekInboxes(INBOXES));
  const outbox: OutboxEntry[] = [];
  const changes: Partial<TurnRecord> = {};
  if (name && items.length > 0) {
    for (const item of items) {
      const entry = inboxEntry(item);
      if (entry) outbox.push(entry);
    }
    Object.assign(changes, { outbox, inbox_ack: { name, ids: items.map((i) => i.id) }, model_has_news: true });
  }
  if (!(changes.model_has_news ?? record.model_has_news)) return { outcome: 'completed', reason: 'completed', changes };
  if (record.generations >= record.max_turns)
    return {
      outcome: 'max_turns',
      reason: 'max_turns',
      changes: {
        ...changes,
        outbox: [
          ...outbox,
          noticeEntry(
            `${record.turn_id}:max_turns`,
            `The turn stopped after ${record.max_turns} model calls (max_turns).`,
          ),
        ],
      },
    };
  return { outcome: 'ask_model', changes };
}
