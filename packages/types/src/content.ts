import { z } from 'zod';
import { jsonObject } from './json.js';

export const textBlock = z.object({ type: z.literal('text'), text: z.string() });
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
]);
export type ContentBlock = z.infer<typeof contentBlock>;
