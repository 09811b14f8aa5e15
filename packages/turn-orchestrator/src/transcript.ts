import { type Bus, HarnessError } from '@iii-harness/runtime';
import {
  type AssistantMessage,
  contracts,
  type FunctionResultMessage,
  type InboxItem,
  type Message,
  type SessionEntry,
  steeringItem,
  type UserMessage,
} from '@iii-harness/types';
import type { BatchCall, OutboxEntry } from './record.js';
import { resultEntryId } from './record.js';

export interface PathMessage {
  entry_id: string;
  message: Message;
}

interface CachedPath {
  seq: number;
  leaf: string | null;
  messages: PathMessage[];
}

/**
 * The session's active path as this delivery last saw it. Between two generations the session
 * normally changes only by this turn's own appends, so the path is extended from their replies
 * instead of read again — as long as each appended entry sits under the cached leaf and took the
 * next sequence number (nothing else changed the session meanwhile); otherwise it is read again.
 */
export class Transcript {
  private path?: CachedPath;
  /** Items waiting in the inboxes as the last append reported it (undefined: not known). */
  private waiting?: number;

  constructor(
    private readonly bus: Bus,
    private readonly sessionId: string,
    private readonly timeoutMs: number,
  ) {}

  /** The messages the model sees. A session that does not exist yet is created here (lazily). */
  async context(): Promise<PathMessage[]> {
    if (this.path) return this.path.messages;
    const read = () => this.bus.call(contracts.session.messages, { session_id: this.sessionId }, this.options());
    const reply = await read().catch(async (error: unknown) => {
      if (!(error instanceof HarnessError && error.code === 'not_found' && error.reason !== 'function_not_found'))
        throw error;
      await this.bus.call(contracts.session.ensure, { session_id: this.sessionId }, this.options());
      return read();
    });
    this.path = { seq: reply.seq, leaf: reply.leaf_id, messages: reply.messages };
    return reply.messages;
  }

  /** Forget the cached path (the session changed in a way this turn did not write). */
  invalidate(): void {
    this.path = undefined;
  }

  /** Whether the session's last answer to this delivery — an append — said its inboxes are empty. */
  inboxesKnownEmpty(): boolean {
    return this.waiting === 0;
  }

  /** Append entries in order under their deterministic ids; a redelivered append changes nothing. */
  async append(entries: readonly OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const appended =
      entries.length === 1
        ? [
            await this.bus.call(
              contracts.session.append,
              { session_id: this.sessionId, entry_id: entries[0]!.entry_id, entry: entries[0]!.entry },
              this.options(),
            ),
          ]
        : (
            await this.bus.call(
              contracts.session.appendBatch,
              { session_id: this.sessionId, entries: entries.map(({ entry_id, entry }) => ({ entry_id, entry })) },
              this.options(),
            )
          ).entries;
    this.extend(appended);
    this.waiting = appended.at(-1)?.inbox_waiting;
  }

  private extend(appended: Array<{ created: boolean; entry: SessionEntry; inbox_waiting?: number }>): void {
    let path = this.path;
    for (const { created, entry } of appended) {
      if (!path || !created || entry.parent_id !== path.leaf || entry.seq !== path.seq + 1) {
        path = undefined;
        break;
      }
      const messages =
        entry.type === 'message' ? [...path.messages, { entry_id: entry.id, message: entry.message }] : path.messages;
      path = { seq: entry.seq, leaf: entry.id, messages };
    }
    this.path = path;
  }

  /** The first of `names` (priority order) with items waiting, and its items; nothing is removed. */
  peekInboxes(names: string[]): Promise<{ name?: string; items: InboxItem[] }> {
    this.waiting = undefined;
    return this.bus.call(contracts.session.inboxPeekFirst, { session_id: this.sessionId, names }, this.options());
  }

  /** Remove exactly these items (others pushed meanwhile stay queued). */
  async ackInbox(name: string, ids: string[]): Promise<void> {
    if (ids.length)
      await this.bus.call(contracts.session.inboxAck, { session_id: this.sessionId, name, ids }, this.options());
    // Acks move the session's sequence: the cached path no longer proves anything.
    this.invalidate();
    this.waiting = undefined;
  }

  private options() {
    return { timeoutMs: this.timeoutMs };
  }
}

/** The assistant message as an entry to append. */
export const assistantEntry = (entryId: string, message: AssistantMessage): OutboxEntry => ({
  entry_id: entryId,
  entry: { type: 'message', message },
});

/** The results of a batch, in the assistant's order, each under `<turn_id>:<function_call_id>`. */
export function resultEntries(turnId: string, calls: readonly BatchCall[]): OutboxEntry[] {
  return calls.map((call) => {
    const message: FunctionResultMessage = {
      role: 'function_result',
      function_call_id: call.function_call_id,
      function_id: call.function_id || call.tool,
      content: call.result?.content ?? [],
      is_error: call.result?.is_error ?? true,
      timestamp: Date.now(),
    };
    return { entry_id: resultEntryId(turnId, call.function_call_id), entry: { type: 'message', message } };
  });
}

export const noticeEntry = (entryId: string, text: string): OutboxEntry => ({
  entry_id: entryId,
  entry: { type: 'custom', custom_type: 'turn_notice', data: { text } },
});

/**
 * What a sender put on an inbox (`steeringItem`), as an entry to append — under the sender's
 * `entry_id` when it gave one, so a retried send never stores its message twice — or undefined
 * when the item only asks the model to look again (its message is already on the path).
 */
export function inboxEntry(item: InboxItem): OutboxEntry | undefined {
  const parsed = steeringItem.safeParse(item.item);
  let message: UserMessage | undefined;
  let entryId = `inbox:${item.id}`;
  if (typeof item.item === 'string') message = { role: 'user', content: item.item, timestamp: Date.now() };
  else if (parsed.success && 'message' in parsed.data) {
    message = parsed.data.message;
    entryId = parsed.data.entry_id ?? entryId;
  } else if (parsed.success && 'text' in parsed.data) {
    message = { role: 'user', content: parsed.data.text, timestamp: Date.now() };
    entryId = parsed.data.entry_id ?? entryId;
  }
  return message ? { entry_id: entryId, entry: { type: 'message', message } } : undefined;
}
