import { createHash } from 'node:crypto';
import type { AssistantMessage, FunctionResultMessage, ImageBlock, Message, UserMessage } from '@iii-harness/types';
import type { OpenAICompat } from './compat.js';

/** The chat-completions message shapes we send (a subset of the vendor's, plus `reasoning_content`). */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };
export type WireToolCall = { id: string; type: 'function'; function: { name: string; arguments: string } };
export type WireMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ContentPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: WireToolCall[]; reasoning_content?: string }
  | { role: 'tool'; tool_call_id: string; content: string };

const OPENAI_ID = /^[a-zA-Z0-9_-]{1,40}$/;

/** The id sent for a stored tool-call id: unchanged, or a stable OpenAI-safe form of it. */
export function wireToolCallId(id: string, format: OpenAICompat['toolCallIdFormat']): string {
  if (format === 'passthrough' || OPENAI_ID.test(id)) return id;
  return `call_${createHash('sha256').update(id).digest('base64url').slice(0, 24)}`;
}

/** Our conversation (+ system prompt) as chat-completions messages. */
export function toWireMessages(messages: Message[], system: string | undefined, compat: OpenAICompat): WireMessage[] {
  const out: WireMessage[] = system ? [{ role: 'system', content: system }] : [];
  // Images in tool results cannot ride on `tool` messages; they follow the run of tool messages as one user message.
  let pendingImages: ImageBlock[] = [];
  const flushImages = () => {
    if (!pendingImages.length) return;
    out.push(
      userFromBlocks(
        [{ type: 'text', text: 'Images returned by the function calls above:' }, ...pendingImages],
        compat,
      ),
    );
    pendingImages = [];
  };
  for (const message of messages) {
    if (message.role !== 'function_result') flushImages();
    switch (message.role) {
      case 'user':
        out.push(
          typeof message.content === 'string'
            ? { role: 'user', content: message.content }
            : userFromBlocks(message.content, compat),
        );
        break;
      case 'assistant': {
        const wire = assistantToWire(message, compat);
        if (wire) out.push(wire);
        break;
      }
      case 'function_result':
        out.push(toolResultToWire(message, compat));
        pendingImages.push(...message.content.filter((b): b is ImageBlock => b.type === 'image'));
        break;
    }
  }
  flushImages();
  return out;
}

function userFromBlocks(blocks: Exclude<UserMessage['content'], string>, compat: OpenAICompat): WireMessage {
  if (blocks.every((b) => b.type === 'text'))
    return { role: 'user', content: blocks.map((b) => (b as { text: string }).text).join('\n') };
  const parts: ContentPart[] = blocks.map((block) => {
    if (block.type === 'text') return { type: 'text', text: block.text };
    if (!compat.supportsImages)
      return { type: 'text', text: `[image ${block.mime_type} omitted: this server takes no images]` };
    return { type: 'image_url', image_url: { url: `data:${block.mime_type};base64,${block.data}` } };
  });
  return { role: 'user', content: parts };
}

/**
 * An assistant turn: text joined, calls echoed with their ids, thinking re-sent as
 * `reasoning_content` where the server wants it. Empty turns (an aborted or failed reply with
 * nothing in it) are left out: the vendors reject an assistant message without content or calls.
 */
function assistantToWire(message: AssistantMessage, compat: OpenAICompat): WireMessage | undefined {
  const text = message.content
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('');
  const thinking = message.content
    .filter((b) => b.type === 'thinking' && !b.redacted)
    .map((b) => (b as { thinking: string }).thinking)
    .join('');
  const calls: WireToolCall[] = message.content.flatMap((b) =>
    b.type === 'function_call'
      ? [
          {
            id: wireToolCallId(b.id, compat.toolCallIdFormat),
            type: 'function' as const,
            function: { name: b.name, arguments: JSON.stringify(b.arguments) },
          },
        ]
      : [],
  );
  if (!text && !calls.length) return undefined;
  const wire: WireMessage = {
    role: 'assistant',
    content: text || null,
    ...(calls.length ? { tool_calls: calls } : {}),
  };
  // Thinking models reject a tool-call turn without the key, so it is sent (empty) even when no thinking was kept.
  if (compat.sendReasoningContent && (thinking || calls.length)) wire.reasoning_content = thinking;
  return wire;
}

function toolResultToWire(message: FunctionResultMessage, compat: OpenAICompat): WireMessage {
  const text = message.content.map((b) => (b.type === 'text' ? b.text : `[image ${b.mime_type}]`)).join('\n');
  return {
    role: 'tool',
    tool_call_id: wireToolCallId(message.function_call_id, compat.toolCallIdFormat),
    content: text || (message.is_error ? 'error' : ''),
  };
}
