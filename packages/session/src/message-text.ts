import type { AssistantMessage, FunctionResultMessage, Message, UserMessage } from '@iii-harness/types';

type Block =
  | Exclude<UserMessage['content'], string>[number]
  | AssistantMessage['content'][number]
  | FunctionResultMessage['content'][number];

/** A message's content as blocks (a plain-string user message is one text block). */
export function contentBlocks(message: Message): Block[] {
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
}

/** The readable text of a message: text blocks only (no thinking, no image data). */
export function messageText(message: Message): string {
  return contentBlocks(message)
    .flatMap((block) => (block.type === 'text' ? [block.text] : []))
    .join('\n');
}

/** One line for a session list: collapsed whitespace, cut at `max` characters. */
export function messagePreview(message: Message, max = 160): string {
  let text = messageText(message).replace(/\s+/g, ' ').trim();
  if (!text) {
    const calls = contentBlocks(message).flatMap((block) => (block.type === 'function_call' ? [block.name] : []));
    if (calls.length) text = `[function call: ${calls.join(', ')}]`;
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
