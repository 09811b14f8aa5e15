import type Anthropic from '@anthropic-ai/sdk';
import type { AssistantMessage, FunctionResultMessage, Message, UserMessage } from '@iii-harness/types';
import { serverResultToWire, textToWire } from './server-blocks.js';

type Block = Anthropic.ContentBlockParam;
type ImageMediaType = Anthropic.Base64ImageSource['media_type'];
export type AnthropicMessage = { role: 'user' | 'assistant'; content: Block[] };

const WIRE_INVALID = /[^a-zA-Z0-9_-]/g;

/** Anthropic accepts tool names and tool_use ids of `[a-zA-Z0-9_-]`, names up to 64 chars. */
export function wireToolName(name: string): string {
  return name.replace(WIRE_INVALID, '_').slice(0, 64) || '_';
}

export function wireToolUseId(id: string): string {
  return id.replace(WIRE_INVALID, '_') || '_';
}

/**
 * Our conversation in Anthropic's shape: system stays out (it is a request field), function
 * results become `tool_result` blocks in a user message, consecutive same-role messages merge
 * (Anthropic wants alternation), and tool_use / tool_result pairs are kept consistent.
 * `provider` is this provider's id: only its own signed thinking can be replayed.
 */
export function convertMessages(messages: readonly Message[], provider: string): AnthropicMessage[] {
  const out = mergeSameRole(messages.map((message, i) => convertMessage(message, provider, i === messages.length - 1)));
  repairToolPairs(out);
  // A dropped call can empty an assistant message, making two user messages adjacent.
  const merged = mergeSameRole(out);
  for (const message of merged) if (message.role === 'user') resultsFirst(message);
  return merged;
}

function mergeSameRole(messages: AnthropicMessage[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  for (const message of messages) {
    if (message.content.length === 0) continue;
    const last = out.at(-1);
    if (last?.role === message.role) last.content.push(...message.content);
    else out.push({ role: message.role, content: [...message.content] });
  }
  return out;
}

function convertMessage(message: Message, provider: string, last: boolean): AnthropicMessage {
  switch (message.role) {
    case 'user':
      return { role: 'user', content: userBlocks(message) };
    case 'assistant':
      return { role: 'assistant', content: assistantBlocks(message, provider, last) };
    case 'function_result':
      return { role: 'user', content: [toolResult(message)] };
  }
}

function userBlocks(message: UserMessage): Block[] {
  if (typeof message.content === 'string') return message.content ? [{ type: 'text', text: message.content }] : [];
  return message.content.flatMap((block): Block[] =>
    block.type === 'text' ? (block.text ? [{ type: 'text', text: block.text }] : []) : [image(block)],
  );
}

function image(block: { mime_type: string; data: string }): Anthropic.ImageBlockParam {
  return { type: 'image', source: { type: 'base64', media_type: block.mime_type as ImageMediaType, data: block.data } };
}

/**
 * An assistant turn on the wire. Signed thinking, citations and Anthropic's own server-tool blocks
 * go back byte for byte to Anthropic only (another vendor's cannot); a server tool whose result
 * never came (an aborted reply) is left out unless this is the last message, which Anthropic
 * continues as is (`pause_turn`).
 */
function assistantBlocks(message: AssistantMessage, provider: string, last: boolean): Block[] {
  const own = message.provider === provider;
  const answered = new Set(message.content.flatMap((b) => (b.type === 'server_tool_result' ? [b.tool_use_id] : [])));
  return message.content.flatMap((block): Block[] => {
    switch (block.type) {
      case 'text':
        return block.text ? [textToWire(block, own)] : [];
      case 'thinking':
        if (!own || !block.signature) return [];
        return block.redacted
          ? [{ type: 'redacted_thinking', data: block.signature }]
          : [{ type: 'thinking', thinking: block.thinking, signature: block.signature }];
      case 'function_call':
        return [
          { type: 'tool_use', id: wireToolUseId(block.id), name: wireToolName(block.name), input: block.arguments },
        ];
      case 'server_tool_use':
        if (!own || !(answered.has(block.id) || last)) return [];
        return [
          {
            type: 'server_tool_use',
            id: block.id,
            name: block.name,
            input: block.input,
          } as Anthropic.ServerToolUseBlockParam,
        ];
      case 'server_tool_result':
        return own ? [serverResultToWire(block)] : [];
      default:
        return [];
    }
  });
}

function toolResult(message: FunctionResultMessage): Anthropic.ToolResultBlockParam {
  const content = message.content.flatMap(
    (block): Array<Anthropic.TextBlockParam | Anthropic.ImageBlockParam> =>
      block.type === 'text' ? (block.text ? [{ type: 'text', text: block.text }] : []) : [image(block)],
  );
  return {
    type: 'tool_result',
    tool_use_id: wireToolUseId(message.function_call_id),
    ...(content.length ? { content } : {}),
    ...(message.is_error ? { is_error: true } : {}),
  };
}

/**
 * Anthropic rejects a tool_use without a tool_result in the next user message, and a
 * tool_result without its tool_use. Calls of an aborted turn that never ran are dropped;
 * results whose call is gone are kept as text so the model still sees them.
 */
function repairToolPairs(messages: AnthropicMessage[]): void {
  messages.forEach((message, i) => {
    if (message.role === 'assistant') {
      const answered = new Set(
        messages[i + 1]?.content.flatMap((b) => (b.type === 'tool_result' ? [b.tool_use_id] : [])) ?? [],
      );
      message.content = message.content.filter((b) => b.type !== 'tool_use' || answered.has(b.id));
    } else {
      const asked = new Set(
        messages[i - 1]?.role === 'assistant'
          ? messages[i - 1]!.content.flatMap((b) => (b.type === 'tool_use' ? [b.id] : []))
          : [],
      );
      message.content = message.content.map((b) =>
        b.type === 'tool_result' && !asked.has(b.tool_use_id) ? orphanAsText(b) : b,
      );
    }
  });
}

function orphanAsText(result: Anthropic.ToolResultBlockParam): Anthropic.TextBlockParam {
  const parts =
    typeof result.content === 'string'
      ? [result.content]
      : (result.content ?? []).flatMap((b) => (b.type === 'text' ? [b.text] : [`[${b.type}]`]));
  return {
    type: 'text',
    text: `[result of call ${result.tool_use_id}${result.is_error ? ', failed' : ''}]\n${parts.join('\n')}`,
  };
}

/** Anthropic wants tool_result blocks before any other content of a user message. */
function resultsFirst(message: AnthropicMessage): void {
  message.content = [
    ...message.content.filter((b) => b.type === 'tool_result'),
    ...message.content.filter((b) => b.type !== 'tool_result'),
  ];
}
