import type { AssistantMessage, ProviderStreamEvent, StopReason, Usage } from '@iii-harness/types';
import type { ProviderFailure } from './failures.js';
import { MessageAccumulator } from './message-accumulator.js';

/** The part of iii-sdk's ChannelWriter the sink needs. */
export interface EventWriter {
  sendMessage(message: string): void;
  close(): void;
}

/** Key under which unparsable tool arguments are kept, so the model can be told what it sent. */
export const INVALID_ARGUMENTS_KEY = 'invalid_json_arguments';

/** Tool-call arguments from the streamed JSON text; `{}` for an empty string. */
export function parseToolArguments(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { [INVALID_ARGUMENTS_KEY]: raw };
  } catch {
    return { [INVALID_ARGUMENTS_KEY]: raw };
  }
}

/**
 * Where a provider writes its normalized events: each goes to the caller's channel as one JSON
 * text message and into the accumulated message. Exactly one terminal event, then the channel
 * closes; anything emitted after that is dropped.
 */
export class StreamSink {
  readonly message: MessageAccumulator;
  private ended = false;
  private emitted = 0;

  constructor(
    private readonly writer: EventWriter | undefined,
    provider: string,
    model: string,
  ) {
    this.message = new MessageAccumulator(provider, model);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Events sent so far (terminal included). */
  get count(): number {
    return this.emitted;
  }

  emit(event: ProviderStreamEvent): void {
    if (this.ended) return;
    this.message.apply(event);
    this.emitted++;
    try {
      this.writer?.sendMessage(JSON.stringify(event));
    } catch {
      // The reader went away; keep accumulating so `complete` and logs still see the message.
    }
  }

  text(contentIndex: number, delta: string): void {
    if (delta) this.emit({ type: 'text_delta', content_index: contentIndex, delta });
  }

  thinking(contentIndex: number, delta: string, signature?: string): void {
    if (delta || signature) this.emit({ type: 'thinking_delta', content_index: contentIndex, delta, ...(signature ? { signature } : {}) });
  }

  /** Encrypted reasoning to replay unchanged: an empty thinking delta carrying the data as signature, kept as a redacted block. */
  redactedThinking(contentIndex: number, data: string): void {
    if (this.ended || !data) return;
    this.thinking(contentIndex, '', data);
    this.message.markRedacted(contentIndex);
  }

  toolCallStart(contentIndex: number, id: string, name: string): void {
    this.emit({ type: 'tool_call_start', content_index: contentIndex, id, name });
  }

  toolCallDelta(contentIndex: number, id: string, delta: string): void {
    if (delta) this.emit({ type: 'tool_call_delta', content_index: contentIndex, id, delta });
  }

  /** Ends a tool call, parsing the JSON streamed for it. */
  toolCallEnd(contentIndex: number, id: string): void {
    this.emit({ type: 'tool_call_end', content_index: contentIndex, id, arguments: parseToolArguments(this.message.toolArguments(contentIndex)) });
  }

  usage(usage: Usage): void {
    this.emit({ type: 'usage', usage });
  }

  /** Terminal success (also used for an abort: a normal outcome with the partial message). */
  done(stopReason: StopReason, extra: { raw_stop_reason?: string; error_message?: string } = {}): AssistantMessage {
    const message = this.message.toMessage(stopReason, extra);
    this.emit({ type: 'done', message, stop_reason: stopReason });
    this.end();
    return message;
  }

  /** Terminal failure, carrying the partial message when something had streamed. */
  fail(failure: ProviderFailure, code = 'provider_error'): AssistantMessage {
    const message = this.message.toMessage('error', { error_message: failure.message });
    this.emit({ type: 'error', code, message: failure.message, retryable: failure.retryable, ...(this.message.hasContent() ? { partial: message } : {}) });
    this.end();
    return message;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    try {
      this.writer?.close();
    } catch {
      // already closed by the reader
    }
  }
}
