import { z } from 'zod';
import { jsonObject, jsonValue } from './json.js';

/**
 * A source the vendor attached to text it wrote (Anthropic `citations`, OpenAI `url_citation`
 * annotations). `type` is the vendor's kind (`web_search_result_location`, `char_location`,
 * `url_citation`, …); `url`, `title` and `cited_text` are what a UI shows; `start_index` /
 * `end_index` bound the cited span inside the text block when the vendor says so (absent: the
 * whole block). `vendor` is the vendor's own object, sent back unchanged to that vendor.
 */
export const citation = z.object({
  type: z.string().min(1),
  url: z.string().optional(),
  title: z.string().optional(),
  cited_text: z.string().optional(),
  start_index: z.number().int().nonnegative().optional(),
  end_index: z.number().int().nonnegative().optional(),
  vendor: jsonObject.optional(),
});
export type Citation = z.infer<typeof citation>;

export const textBlock = z.object({
  type: z.literal('text'),
  text: z.string(),
  /** Sources for this text, in the order the vendor gave them. */
  citations: z.array(citation).optional(),
});
export type TextBlock = z.infer<typeof textBlock>;

/** Model reasoning. `signature` is opaque vendor data that must be sent back unchanged on the next request. */
export const thinkingBlock = z.object({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z.string().optional(),
  /** Reasoning the vendor returned encrypted (Anthropic `redacted_thinking`); replayed, never shown. */
  redacted: z.boolean().optional(),
});
export type ThinkingBlock = z.infer<typeof thinkingBlock>;

export const imageBlock = z.object({
  type: z.literal('image'),
  mime_type: z.string().regex(/^image\/[a-z0-9.+-]+$/, 'an image MIME type such as image/png'),
  /** Base64-encoded bytes. */
  data: z.string(),
});
export type ImageBlock = z.infer<typeof imageBlock>;

/** A call the model asked for. `name` is the tool name as the model used it (usually `agent_trigger`). */
export const functionCallBlock = z.object({
  type: z.literal('function_call'),
  id: z.string().min(1),
  name: z.string().min(1),
  arguments: jsonObject,
});
export type FunctionCallBlock = z.infer<typeof functionCallBlock>;

/**
 * A tool the vendor ran on its own side during the reply (Anthropic web search, web fetch, code
 * execution, tool search): shown and kept in the transcript, sent back to the same provider on the
 * next request, never executed by the harness. `name` is the vendor's tool name.
 */
export const serverToolUseBlock = z.object({
  type: z.literal('server_tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: jsonObject,
});
export type ServerToolUseBlock = z.infer<typeof serverToolUseBlock>;

/**
 * What a vendor-side tool returned. `result_type` is the vendor's block type
 * (`web_search_tool_result`, `web_fetch_tool_result`, `code_execution_tool_result`, …) and
 * `content` its payload exactly as it came (search hits with their encrypted content, the fetched
 * document, stdout and return code…), so it can be replayed byte for byte.
 */
export const serverToolResultBlock = z.object({
  type: z.literal('server_tool_result'),
  tool_use_id: z.string().min(1),
  result_type: z.string().min(1),
  content: jsonValue,
  /** The vendor reported an error object instead of a result. */
  is_error: z.boolean().optional(),
});
export type ServerToolResultBlock = z.infer<typeof serverToolResultBlock>;

/** What a function result may carry back to the model. */
export const resultContentBlock = z.discriminatedUnion('type', [textBlock, imageBlock]);
export type ResultContentBlock = z.infer<typeof resultContentBlock>;

export const functionResultBlock = z.object({
  type: z.literal('function_result'),
  function_call_id: z.string().min(1),
  content: z.array(resultContentBlock),
  is_error: z.boolean().optional(),
});
export type FunctionResultBlock = z.infer<typeof functionResultBlock>;

export const contentBlock = z.discriminatedUnion('type', [
  textBlock,
  thinkingBlock,
  imageBlock,
  functionCallBlock,
  functionResultBlock,
  serverToolUseBlock,
  serverToolResultBlock,
]);
export type ContentBlock = z.infer<typeof contentBlock>;
