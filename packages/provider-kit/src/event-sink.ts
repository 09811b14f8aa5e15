import type { Logger } from '@iii-harness/runtime';
import type {
  AssistantMessage,
  Citation,
  ProviderStreamEvent,
  ProviderWarningEvent,
  ServerToolResultBlock,
  ServerToolUseBlock,
  StopReason,
  Usage,
} from '@iii-harness/types';
import type { ProviderFailure } from './failures.js';
import { MessageAccumulator, type MessageEnding } from './message-accumulator.js';

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
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : { [INVALID_ARGUMENTS_KEY]: raw };
  } catch {
    return { [INVALID_ARGUMENTS_KEY]: raw };
  }
}

type DeltaEvent = Extract<ProviderStreamEvent, { type: 'text_delta' | 'thinking_delta' | 'tool_call_delta' }>;

/** A held delta goes out at the latest this long after it began collecting, so a long burst still streams. */
const MAX_HOLD_MS = 2;

const isDelta = (event: ProviderStreamEvent): event is DeltaEvent =>
  event.type === 'text_delta' || event.type === 'thinking_delta' || event.type === 'tool_call_delta';

/** A signature is the end of a thinking block and travels as its own delta, as the vendor sent it. */
const carriesSignature = (event: DeltaEvent): boolean =>
  event.type === 'thinking_delta' && event.signature !== undefined;

/** Same event type and block: the two can travel as one event whose delta is both, in order. */
const sameBlock = (a: DeltaEvent, b: DeltaEvent): boolean =>
  a.type === b.type && a.content_index === b.content_index && !carriesSignature(b);

/**
 * Where a provider writes its normalized events: each goes into the accumulated message at once
 * and to the caller's channel as one JSON text message. Exactly one terminal event, then the
 * channel closes; anything emitted after that is dropped.
 *
 * Deltas are coalesced on the way out, so a burst (a vendor or a reader catching up, thousands of
 * deltas read in one go) costs a few bus messages instead of one each: a delta goes out at once
 * unless one already went out in this turn of the event loop (or the turn before, while a burst
 * lasts); then it is held, and the next deltas of the same block join it until the turn ends
 * (`setImmediate`) or 2 ms have passed. The first delta of a stream, and every delta of a stream
 * paced slower than the event loop, is therefore sent with no delay. Any other event, a delta of
 * another block, a thinking signature and the terminal event first send what is held, so order is
 * kept and nothing is lost; the accumulated message is the same either way.
 */
export class StreamSink {
  readonly message: MessageAccumulator;
  private ended = false;
  private emitted = 0;
  private held: { event: DeltaEvent; since: number } | undefined;
  /** Deltas emitted in this turn of the event loop; more than one makes it a burst. */
  private deltasThisTurn = 0;
  /** A delta went out in this turn, or the previous turn was a burst: the next deltas wait. */
  private busy = false;
  private turnEndScheduled = false;
  /** Tool calls started and not ended yet, by content index: a terminal event ends them first. */
  private readonly openCalls = new Map<number, string>();
  /** Warnings already reported (`code:feature`): a vendor repeating one is reported once. */
  private readonly warned = new Set<string>();

  constructor(
    private readonly writer: EventWriter | undefined,
    provider: string,
    model: string,
    private readonly options: { logger?: Logger } = {},
  ) {
    this.message = new MessageAccumulator(provider, model);
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Events accepted so far (terminal included), whether sent yet or held for coalescing. */
  get count(): number {
    return this.emitted;
  }

  emit(event: ProviderStreamEvent): void {
    if (this.ended) return;
    if (event.type === 'tool_call_start') this.openCalls.set(event.content_index, event.id);
    if (event.type === 'tool_call_end') this.openCalls.delete(event.content_index);
    this.message.apply(event);
    this.emitted++;
    if (!this.writer) return; // `complete`: nobody reads a channel
    if (isDelta(event)) {
      this.coalesce(event);
      return;
    }
    this.flush();
    this.send(event);
  }

  /** Send the held delta now, if any. */
  flush(): void {
    const held = this.held;
    if (!held) return;
    this.held = undefined;
    this.send(held.event);
  }

  private coalesce(event: DeltaEvent): void {
    this.deltasThisTurn++;
    const held = this.held;
    if (held && sameBlock(held.event, event)) {
      held.event.delta += event.delta;
      if (performance.now() - held.since >= MAX_HOLD_MS) this.flush();
      return;
    }
    this.flush();
    if (!this.busy || carriesSignature(event)) {
      this.send(event);
      this.busy = true;
    } else {
      this.held = { event: { ...event }, since: performance.now() };
    }
    this.scheduleTurnEnd();
  }

  /** At the end of the turn, send what is held; after a burst the channel stays busy for one more turn. */
  private scheduleTurnEnd(): void {
    if (this.turnEndScheduled) return;
    this.turnEndScheduled = true;
    setImmediate(() => {
      this.turnEndScheduled = false;
      if (this.ended) return;
      this.flush();
      this.busy = this.deltasThisTurn > 1;
      this.deltasThisTurn = 0;
      if (this.busy) this.scheduleTurnEnd();
    });
  }

  private send(event: ProviderStreamEvent): void {
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
    if (delta || signature)
      this.emit({ type: 'thinking_delta', content_index: contentIndex, delta, ...(signature ? { signature } : {}) });
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
    this.emit({
      type: 'tool_call_end',
      content_index: contentIndex,
      id,
      arguments: parseToolArguments(this.message.toolArguments(contentIndex)),
    });
  }

  usage(usage: Usage): void {
    this.emit({ type: 'usage', usage });
  }

  /** A block the vendor delivered whole (a tool it ran itself, and its result). */
  block(contentIndex: number, block: ServerToolUseBlock | ServerToolResultBlock): void {
    this.emit({ type: 'content_block', content_index: contentIndex, block });
  }

  /** A source for the text block at `contentIndex`. */
  citation(contentIndex: number, citation: Citation): void {
    this.emit({ type: 'citation', content_index: contentIndex, citation });
  }

  /**
   * Something the vendor sent that we cannot carry: a `warning` event and a log line naming it,
   * once per kind per request, never a silent drop.
   */
  warning(code: ProviderWarningEvent['code'], feature: string, message: string): void {
    const key = `${code}:${feature}`;
    if (this.ended || this.warned.has(key)) return;
    this.warned.add(key);
    this.options.logger?.warn({ code, feature }, message);
    this.emit({ type: 'warning', code, feature, message });
  }

  /**
   * End every call still open with the arguments streamed so far, so no terminal event ever
   * leaves a call half-open (arguments cut off mid-JSON are kept under `invalid_json_arguments`).
   */
  private endOpenCalls(): void {
    for (const [index, id] of [...this.openCalls]) this.toolCallEnd(index, id);
  }

  /** Terminal success (also used for an abort: a normal outcome with the partial message). */
  done(stopReason: StopReason, extra: MessageEnding = {}): AssistantMessage {
    if (this.ended) return this.message.toMessage(stopReason, extra);
    this.endOpenCalls();
    const message = this.message.toMessage(stopReason, extra);
    this.emit({ type: 'done', message, stop_reason: stopReason });
    this.end();
    return message;
  }

  /** Terminal failure, carrying the partial message when something had streamed. */
  fail(failure: ProviderFailure, code = 'provider_error'): AssistantMessage {
    if (!this.ended) this.endOpenCalls();
    const message = this.message.toMessage('error', { error_message: failure.message });
    this.emit({
      type: 'error',
      code,
      message: failure.message,
      retryable: failure.retryable,
      reason: failure.kind,
      ...(this.message.hasContent() ? { partial: message } : {}),
    });
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
