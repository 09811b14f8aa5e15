import { z } from 'zod';
import { assistantMessage, stopReason, usage } from './messages.js';

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
export const doneEvent = z.object({ type: z.literal('done'), message: assistantMessage, stop_reason: stopReason });
export const errorEvent = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  retryable: z.boolean(),
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
  doneEvent,
  errorEvent,
]);
export type ProviderStreamEvent = z.infer<typeof providerStreamEvent>;
export type ProviderDoneEvent = z.infer<typeof doneEvent>;
export type ProviderErrorEvent = z.infer<typeof errorEvent>;

export function isTerminalEvent(event: ProviderStreamEvent): event is ProviderDoneEvent | ProviderErrorEvent {
  return event.type === 'done' || event.type === 'error';
}
