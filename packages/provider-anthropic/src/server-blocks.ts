import type Anthropic from '@anthropic-ai/sdk';
import type { Citation, JsonObject, JsonValue, ServerToolResultBlock, TextBlock } from '@iii-harness/types';

/**
 * The blocks only Anthropic has — citations on text, tools Anthropic runs itself (web search, web
 * fetch, code execution, tool search) and their results — both ways: from the stream into our
 * content blocks, and back into the request shape Anthropic wants on the next turn.
 */

type WireCitation = Anthropic.CitationsDelta['citation'];

/** Result block types of Anthropic's server tools: each carries `tool_use_id` and `content`. */
export const SERVER_TOOL_RESULT_TYPES = new Set([
  'web_search_tool_result',
  'web_fetch_tool_result',
  'code_execution_tool_result',
  'bash_code_execution_tool_result',
  'text_editor_code_execution_tool_result',
  'tool_search_tool_result',
]);

/** A citation as we keep it: what a UI shows, plus Anthropic's own object for the replay. */
export function citationFromWire(wire: WireCitation): Citation {
  const c = wire as WireCitation & { url?: string; title?: string | null; document_title?: string | null };
  const title = c.title ?? c.document_title;
  return {
    type: c.type,
    ...(c.url ? { url: c.url } : {}),
    ...(title ? { title } : {}),
    ...(c.cited_text ? { cited_text: c.cited_text } : {}),
    vendor: citationParam(wire as unknown as JsonObject),
  };
}

/** The request shape of a citation: responses add `file_id` to document locations, which requests do not take. */
function citationParam(wire: JsonObject): JsonObject {
  const { file_id: _fileId, ...param } = wire;
  return param;
}

/** A server tool's result block, kept whole; an `…_error` content object marks it as an error. */
export function serverResultFromWire(block: {
  type: string;
  tool_use_id: string;
  content: unknown;
}): ServerToolResultBlock {
  const content = block.content as JsonValue;
  const errorType = (content as { type?: unknown } | null)?.type;
  return {
    type: 'server_tool_result',
    tool_use_id: block.tool_use_id,
    result_type: block.type,
    content,
    ...(typeof errorType === 'string' && errorType.endsWith('_error') ? { is_error: true } : {}),
  };
}

/** Our text block back on the wire, its citations as Anthropic gave them (only its own can go back). */
export function textToWire(block: TextBlock, own: boolean): Anthropic.TextBlockParam {
  const citations = own ? (block.citations ?? []).flatMap((c) => (c.vendor ? [c.vendor] : [])) : [];
  return {
    type: 'text',
    text: block.text,
    ...(citations.length ? { citations: citations as unknown as Anthropic.TextCitationParam[] } : {}),
  };
}

/** A server tool result back on the wire, exactly as it came. */
export function serverResultToWire(block: ServerToolResultBlock): Anthropic.ContentBlockParam {
  return {
    type: block.result_type,
    tool_use_id: block.tool_use_id,
    content: block.content,
  } as unknown as Anthropic.ContentBlockParam;
}
