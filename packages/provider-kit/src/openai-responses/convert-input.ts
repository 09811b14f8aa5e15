import type { AssistantMessage, FunctionResultMessage, ImageBlock, Message, UserMessage } from '@iii-harness/types';
import type { OpenAICompat } from '../openai-compatible/compat.js';
import { wireToolCallId } from '../openai-compatible/convert-messages.js';

/** The Responses API input items we send (a subset of the vendor's). */
export type ResponsesInputContent =
  | { type: 'input_text'; text: string }
  | { type: 'input_image'; image_url: string; detail: 'auto' };
export type ResponsesReasoningItem = {
  type: 'reasoning';
  id: string;
  summary: Array<{ type: 'summary_text'; text: string }>;
  encrypted_content: string;
};
export type ResponsesInputItem =
  | { role: 'user'; content: string | ResponsesInputContent[] }
  | { role: 'assistant'; content: string }
  | ResponsesReasoningItem
  | { type: 'function_call'; call_id: string; name: string; arguments: string }
  | { type: 'function_call_output'; call_id: string; output: string | ResponsesInputContent[] };

/**
 * A reasoning item as we keep it in a thinking block's `signature`: the vendor's id, summary and
 * encrypted content, so the next request (with `store: false`) can send it back unchanged.
 */
export function reasoningSignature(item: Omit<ResponsesReasoningItem, 'type'>): string {
  return JSON.stringify({ id: item.id, summary: item.summary, encrypted_content: item.encrypted_content });
}

/** The reasoning item a signature holds, or undefined when it is not one of ours (another vendor's thinking). */
export function reasoningFromSignature(signature: string | undefined): ResponsesReasoningItem | undefined {
  if (!signature?.startsWith('{')) return undefined;
  try {
    const item = JSON.parse(signature) as Partial<ResponsesReasoningItem>;
    if (typeof item.id !== 'string' || typeof item.encrypted_content !== 'string') return undefined;
    return {
      type: 'reasoning',
      id: item.id,
      summary: Array.isArray(item.summary) ? item.summary : [],
      encrypted_content: item.encrypted_content,
    };
  } catch {
    return undefined;
  }
}

/**
 * Our conversation as Responses input items. Assistant turns keep their order: text as assistant
 * messages, calls as `function_call` items, and encrypted reasoning sent back — but only to the
 * model that produced it (`own`). Results become `function_call_output`. Calls whose output never
 * came are left out (the API refuses them), as is a reasoning item left with nothing after it.
 */
export function toResponsesInput(
  messages: Message[],
  compat: OpenAICompat,
  own: { provider: string; model: string },
): ResponsesInputItem[] {
  const answered = new Set(
    messages.flatMap((m) =>
      m.role === 'function_result' ? [wireToolCallId(m.function_call_id, compat.toolCallIdFormat)] : [],
    ),
  );
  const asked = new Set<string>();
  const out: ResponsesInputItem[] = [];
  for (const message of messages) {
    if (message.role === 'user') out.push(userItem(message, compat));
    else if (message.role === 'assistant') {
      const items = assistantItems(message, compat, own, answered);
      for (const item of items) if ('type' in item && item.type === 'function_call') asked.add(item.call_id);
      out.push(...items);
    } else out.push(resultItem(message, compat, asked));
  }
  return out;
}

function userItem(message: UserMessage, compat: OpenAICompat): ResponsesInputItem {
  if (typeof message.content === 'string') return { role: 'user', content: message.content };
  return { role: 'user', content: message.content.map((block) => contentPart(block, compat)) };
}

function contentPart(block: { type: 'text'; text: string } | ImageBlock, compat: OpenAICompat): ResponsesInputContent {
  if (block.type === 'text') return { type: 'input_text', text: block.text };
  if (!compat.supportsImages)
    return { type: 'input_text', text: `[image ${block.mime_type} omitted: this model takes no images]` };
  return { type: 'input_image', image_url: `data:${block.mime_type};base64,${block.data}`, detail: 'auto' };
}

function assistantItems(
  message: AssistantMessage,
  compat: OpenAICompat,
  own: { provider: string; model: string },
  answered: Set<string>,
): ResponsesInputItem[] {
  const sameModel = message.provider === own.provider && message.model === own.model;
  const items: ResponsesInputItem[] = [];
  let text = '';
  const flushText = () => {
    if (text) items.push({ role: 'assistant', content: text });
    text = '';
  };
  for (const block of message.content) {
    if (block.type === 'text') {
      text += block.text;
      continue;
    }
    flushText();
    if (block.type === 'thinking') {
      const reasoning = sameModel ? reasoningFromSignature(block.signature) : undefined;
      if (reasoning) items.push(reasoning);
    } else if (block.type === 'function_call') {
      const callId = wireToolCallId(block.id, compat.toolCallIdFormat);
      if (answered.has(callId))
        items.push({
          type: 'function_call',
          call_id: callId,
          name: block.name,
          arguments: JSON.stringify(block.arguments),
        });
    }
    // another vendor's server-tool blocks cannot be sent to OpenAI
  }
  flushText();
  // A reasoning item must be followed by what it led to; one left last (its call dropped) is refused.
  while (items.length && 'type' in items.at(-1)! && (items.at(-1) as { type: string }).type === 'reasoning')
    items.pop();
  return items;
}

function resultItem(message: FunctionResultMessage, compat: OpenAICompat, asked: Set<string>): ResponsesInputItem {
  const callId = wireToolCallId(message.function_call_id, compat.toolCallIdFormat);
  const parts = message.content.map((block) => contentPart(block, compat));
  const textOnly = parts.every((p) => p.type === 'input_text');
  const text =
    parts.map((p) => (p.type === 'input_text' ? p.text : '')).join('\n') || (message.is_error ? 'error' : '');
  // A result whose call is gone (an aborted turn) is still worth the model's reading, as text.
  if (!asked.has(callId))
    return { role: 'user', content: `[result of call ${callId}${message.is_error ? ', failed' : ''}]\n${text}` };
  return { type: 'function_call_output', call_id: callId, output: textOnly ? text : parts };
}
