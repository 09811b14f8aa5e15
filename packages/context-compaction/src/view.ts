import type { Bus } from '@iii-harness/runtime';
import { contracts, type Message, type SessionEntry } from '@iii-harness/types';
import { type CompactionDetails, compactionDetails } from './details.js';
import { messageTokens, type TokenCounter } from './tokens.js';

/** A message of the model's context, with the entry it came from and what it costs. */
export interface ViewMessage {
  entry_id: string;
  message: Message;
  tokens: number;
}

export type CompactionEntry = Extract<SessionEntry, { type: 'compaction' }>;

/**
 * What the model sees of a session now (`session::messages`): the latest compaction's summary
 * message, then the messages it kept and what came after, with results it replaced as replaced.
 */
export interface SessionView {
  session_id: string;
  leaf_id: string | null;
  /** The summary message the model is sent (absent without a compaction or with an empty summary). */
  summary: ViewMessage | null;
  /** The context after the summary message. */
  messages: ViewMessage[];
  compaction: CompactionEntry | null;
  /** This worker's details of that compaction; null when another writer appended it. */
  details: CompactionDetails | null;
}

export async function loadView(bus: Bus, sessionId: string, counter: TokenCounter): Promise<SessionView> {
  const read = await bus.call(contracts.session.messages, { session_id: sessionId });
  let compaction: CompactionEntry | null = null;
  if (read.compaction_entry_id) {
    const { entry } = await bus.call(contracts.session.getEntry, {
      session_id: sessionId,
      entry_id: read.compaction_entry_id,
    });
    if (entry.type === 'compaction') compaction = entry;
  }
  const parsed = compaction?.details ? compactionDetails.safeParse(compaction.details) : undefined;
  const all = read.messages.map(({ entry_id, message }) => ({
    entry_id,
    message,
    tokens: countMessage(counter, sessionId, entry_id, message),
  }));
  const hasSummary = compaction !== null && all[0]?.entry_id === compaction.id;
  return {
    session_id: sessionId,
    leaf_id: read.leaf_id,
    summary: hasSummary ? all[0]! : null,
    messages: hasSummary ? all.slice(1) : all,
    compaction,
    details: parsed?.success ? parsed.data : null,
  };
}

/**
 * Counts per entry, remembered: a session is re-read before every provider call and its old
 * entries do not change. The key carries the text's length, so a revised entry (streamed
 * update, or a result shown replaced) is counted again.
 */
const remembered = new Map<string, number>();
const REMEMBERED_MAX = 50_000;

function countMessage(counter: TokenCounter, sessionId: string, entryId: string, message: Message): number {
  const key = `${counter.encoding}|${sessionId}|${entryId}|${contentLength(message)}`;
  const known = remembered.get(key);
  if (known !== undefined) return known;
  const tokens = messageTokens(counter, message);
  if (remembered.size >= REMEMBERED_MAX) remembered.clear();
  remembered.set(key, tokens);
  return tokens;
}

function contentLength(message: Message): number {
  if (typeof message.content === 'string') return message.content.length;
  let length = 0;
  for (const block of message.content)
    length +=
      block.type === 'text'
        ? block.text.length
        : block.type === 'thinking'
          ? block.thinking.length + (block.signature?.length ?? 0)
          : block.type === 'function_call'
            ? block.name.length + JSON.stringify(block.arguments).length
            : block.type === 'image'
              ? block.data.length
              : JSON.stringify(block).length; // server-tool blocks
  return length + message.content.length * 7;
}
