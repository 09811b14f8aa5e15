import type { Bus } from '@iii-harness/runtime';
import type { FunctionResultMessage, Message, UserMessage } from '@iii-harness/types';
import type { BatchCall } from './record.js';

/** The session worker's view of the conversation, with the entry id of every message. */
export async function loadContext(bus: Bus, sessionId: string): Promise<Array<{ entry_id: string; message: Message }>> {
  const { messages } = await bus.call<{ messages: Array<{ entry_id: string; message: Message }> }>(
    'session::messages',
    { session_id: sessionId },
  );
  return messages;
}

/** Append a message under a deterministic id: a redelivered step rewrites nothing. */
export async function appendMessage(bus: Bus, sessionId: string, entryId: string, message: Message): Promise<void> {
  await bus.call('session::append', { session_id: sessionId, entry_id: entryId, entry: { type: 'message', message } });
}

export async function appendNotice(bus: Bus, sessionId: string, entryId: string, text: string): Promise<void> {
  await bus.call('session::append', {
    session_id: sessionId,
    entry_id: entryId,
    entry: { type: 'custom', custom_type: 'turn_notice', data: { text } },
  });
}

/** The results of a batch, in the assistant's order, each under `<turn_id>:<function_call_id>`. */
export async function appendResults(bus: Bus, sessionId: string, turnId: string, calls: BatchCall[]): Promise<void> {
  const entries = calls.map((call) => {
    const message: FunctionResultMessage = {
      role: 'function_result',
      function_call_id: call.function_call_id,
      function_id: call.function_id || call.tool,
      content: call.result?.content ?? [],
      is_error: call.result?.is_error ?? true,
      timestamp: Date.now(),
    };
    return { entry_id: `${turnId}:${call.function_call_id}`, entry: { type: 'message', message } };
  });
  if (entries.length) await bus.call('session::append_batch', { session_id: sessionId, entries });
}

export interface InboxItem {
  id: string;
  item: unknown;
}

/** What a sender put on an inbox, as a user message: `{message}` or `{text}`. */
export function inboxMessage(item: unknown): UserMessage | undefined {
  if (item === null || typeof item !== 'object')
    return typeof item === 'string' ? { role: 'user', content: item, timestamp: Date.now() } : undefined;
  const { message, text } = item as { message?: UserMessage; text?: unknown };
  if (message && message.role === 'user') return message;
  if (typeof text === 'string') return { role: 'user', content: text, timestamp: Date.now() };
  return undefined;
}

/** The first of `names` (priority order) with items waiting, and its items; nothing is removed. */
export function peekFirstInbox(
  bus: Bus,
  sessionId: string,
  names: string[],
): Promise<{ name?: string; items: InboxItem[] }> {
  return bus.call('session::inbox::peek_first', { session_id: sessionId, names });
}

/** Remove exactly these items (others pushed meanwhile stay queued). */
export async function ackInbox(bus: Bus, sessionId: string, name: string, ids: string[]): Promise<void> {
  if (ids.length) await bus.call('session::inbox::ack', { session_id: sessionId, name, ids });
}
