import { z } from 'zod';
import { citation, serverToolResultBlock, serverToolUseBlock } from './content.js';
import { assistantMessage, stopReason, usage } from './messages.js';

/**
 * Why a provider request failed, as the `reason` of its `provider_error` (on the stream's `error`
 * event and on a thrown HarnessError alike). Callers branch on these, never on message text.
 */
export const providerFailureReasons = [
  'auth',
  'missing_credential',
  'rate_limited',
  'overloaded',
  'server',
  'bad_request',
  /** The request does not fit the model's context window: compact and try again; retrying as is cannot help. */
  'context_overflow',
  'not_found',
  'connection',
  'timeout',
  /** The vendor's stream broke its own protocol (cut-off JSON, a second message in one stream, …). */
  'bad_response',
  'aborted',
  'unknown',
] as const;
export const providerFailureReason = z.enum(providerFailureReasons);
export type ProviderFailureReason = z.infer<typeof providerFailureReason>;

/** The one reason every vendor's "prompt too long" wording maps to (retryable: false). */
export const CONTEXT_OVERFLOW_REASON = 'context_overflow' satisfies ProviderFailureReason;

/**
 * What a provider writes to the caller's data channel, one JSON text message per event.
 * Rules: deltas only (the caller accumulates); tool-call events are bracketed start → delta* → end;
 * exactly one terminal event, `done` or `error`, after which the provider closes the channel.
 * Failures after the call started go into the stream as `error`; they are never thrown.
 */
export const textDeltaEvent = z.object({
  type: z.literal('text_delta'),
  content_index: z.number().int(),
  delta: z.string(),
});
export const thinkingDeltaEvent = z.object({
  type: z.literal('thinking_delta'),
  content_index: z.number().int(),
  delta: z.string(),
  /** Anthropic sends the signature as its own delta at the end of a thinking block. */
  signature: z.string().optional(),
});
export const toolCallStartEvent = z.object({
  type: z.literal('tool_call_start'),
  content_index: z.number().int(),
  id: z.string(),
  name: z.string(),
});
/** A fragment of the call's JSON arguments, as the vendor streamed it. */
export const toolCallDeltaEvent = z.object({
  type: z.literal('tool_call_delta'),
  content_index: z.number().int(),
  id: z.string(),
  delta: z.string(),
});
export const toolCallEndEvent = z.object({
  type: z.literal('tool_call_end'),
  content_index: z.number().int(),
  id: z.string(),
  arguments: z.record(z.string(), z.unknown()),
});
export const usageEvent = z.object({ type: z.literal('usage'), usage: usage });
/**
 * A block the vendor delivers whole rather than as deltas: a tool it ran on its side and that
 * tool's result (Anthropic web search, web fetch, code execution). Kept in the message as is.
 */
export const contentBlockEvent = z.object({
  type: z.literal('content_block'),
  content_index: z.number().int(),
  block: z.discriminatedUnion('type', [serverToolUseBlock, serverToolResultBlock]),
});
/** A source attached to the text block at `content_index` (it joins that block's `citations`). */
export const citationEvent = z.object({
  type: z.literal('citation'),
  content_index: z.number().int(),
  citation,
});
/**
 * Something the vendor sent that this provider cannot carry (an unknown block, delta, event or
 * output item): reported, and logged, instead of dropped silently. The stream goes on.
 * `feature` names it as the vendor does (e.g. `container_upload`).
 */
export const warningEvent = z.object({
  type: z.literal('warning'),
  code: z.enum(['unsupported_block', 'unsupported_delta', 'unsupported_event', 'unsupported_item']),
  feature: z.string(),
  message: z.string(),
});
export const doneEvent = z.object({ type: z.literal('done'), message: assistantMessage, stop_reason: stopReason });
export const errorEvent = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
  /** The finer cause (`context_overflow`, `rate_limited`, …); see `providerFailureReasons`. */
  reason: z.string().optional(),
  /** The partial assistant message accumulated before the failure, if any. */
  partial: assistantMessage.optional(),
});

export const providerStreamEvent = z.discriminatedUnion('type', [
  textDeltaEvent,
  thinkingDeltaEvent,
  toolCallStartEvent,
  toolCallDeltaEvent,
  toolCallEndEvent,
  usageEvent,
  contentBlockEvent,
  citationEvent,
  warningEvent,
  doneEvent,
  errorEvent,
]);
export type ProviderStreamEvent = z.infer<typeof providerStreamEvent>;
export type ProviderDoneEvent = z.infer<typeof doneEvent>;
export type ProviderErrorEvent = z.infer<typeof errorEvent>;
export type ProviderWarningEvent = z.infer<typeof warningEvent>;

export function isTerminalEvent(event: ProviderStreamEvent): event is ProviderDoneEvent | ProviderErrorEvent {
  return event.type === 'done' || event.type === 'error';
}
