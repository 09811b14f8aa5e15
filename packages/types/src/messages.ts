import { z } from 'zod';
import {
  functionCallBlock,
  imageBlock,
  resultContentBlock,
  serverToolResultBlock,
  serverToolUseBlock,
  textBlock,
  thinkingBlock,
} from './content.js';

/** Token counts as the provider reported them; cost is computed from the model's pricing. */
export const usage = z.object({
  input_tokens: z.number().int().nonnegative(),
  output_tokens: z.number().int().nonnegative(),
  cache_read_tokens: z.number().int().nonnegative().default(0),
  cache_write_tokens: z.number().int().nonnegative().default(0),
  reasoning_tokens: z.number().int().nonnegative().optional(),
  /** USD, when the model's pricing is known. */
  cost_usd: z.number().nonnegative().optional(),
});
export type Usage = z.infer<typeof usage>;

export const emptyUsage = (): Usage => ({
  input_tokens: 0,
  output_tokens: 0,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
});

/**
 * Why the assistant stopped, unified across vendors. Unknown vendor values map to `other`
 * (the raw value is kept in `raw_stop_reason`) instead of failing: local servers invent new ones.
 * `refusal`: the model declined or the vendor's safety filter stopped the reply (`stop_details`
 * says why when the vendor does).
 */
export const stopReason = z.enum(['end', 'length', 'function_call', 'refusal', 'aborted', 'error', 'other']);
export type StopReason = z.infer<typeof stopReason>;

/** The vendor's account of a stop, e.g. Anthropic's refusal `{type: 'refusal', category, explanation}`. */
export const stopDetails = z.object({
  /** `refusal` (the model declined) or `content_filter` (the vendor's filter cut the reply). */
  type: z.string().min(1),
  /** The vendor's policy category (`cyber`, `bio`, …), when it names one. */
  category: z.string().optional(),
  /** Human-readable; not stable across vendor versions. */
  explanation: z.string().optional(),
});
export type StopDetails = z.infer<typeof stopDetails>;

export const userMessage = z.object({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, imageBlock]))]),
  timestamp: z.number().int().optional(),
});
export type UserMessage = z.infer<typeof userMessage>;

export const assistantMessage = z.object({
  role: z.literal('assistant'),
  content: z.array(
    z.discriminatedUnion('type', [
      textBlock,
      thinkingBlock,
      functionCallBlock,
      serverToolUseBlock,
      serverToolResultBlock,
    ]),
  ),
  provider: z.string(),
  model: z.string(),
  usage: usage,
  stop_reason: stopReason,
  raw_stop_reason: z.string().optional(),
  stop_details: stopDetails.optional(),
  /** Set when `stop_reason` is `error` or `aborted`. */
  error_message: z.string().optional(),
  timestamp: z.number().int().optional(),
});
export type AssistantMessage = z.infer<typeof assistantMessage>;

export const functionResultMessage = z.object({
  role: z.literal('function_result'),
  function_call_id: z.string().min(1),
  /** The bus function that ran (or the tool name when no function was resolved). */
  function_id: z.string(),
  content: z.array(resultContentBlock),
  is_error: z.boolean(),
  timestamp: z.number().int().optional(),
});
export type FunctionResultMessage = z.infer<typeof functionResultMessage>;

export const message = z.discriminatedUnion('role', [userMessage, assistantMessage, functionResultMessage]);
export type Message = z.infer<typeof message>;
