import type Anthropic from '@anthropic-ai/sdk';
import { ProviderFailure, type StreamOutcome, type StreamSink } from '@iii-harness/provider-kit';
import type { Usage } from '@iii-harness/types';
import { mapStopReason } from './map-stop-reason.js';

interface StreamContext {
  sink: StreamSink;
  signal: AbortSignal;
  /** The kit's marker that the answer has begun: no retry after this. */
  started(): void;
  /** Wire tool name → caller's name. */
  toolNames: Map<string, string>;
}

type WireBlock = Anthropic.RawContentBlockStartEvent['content_block'];

/** What the mapper keeps about an open content block until its `content_block_stop`. */
type OpenBlock =
  | { kind: 'text' | 'thinking' }
  | {
      kind: 'tool';
      id: string;
      /** The input `content_block_start` carried, as JSON: sent when no `input_json_delta` follows. */
      startInput: string;
      sawDelta: boolean;
    };

/**
 * Anthropic's raw stream events → our normalized events, one handler per event family. Anthropic's
 * block `index` is the content index; tool input arrives as partial JSON per block and is parsed at
 * the block's stop; usage comes in `message_start` (input, cache) and `message_delta` (output, and
 * cumulative totals on newer API versions) and is merged. `ping` never reaches here (the SDK drops
 * it) and an `error` event makes the SDK throw.
 */
export async function mapStream(
  events: AsyncIterable<Anthropic.RawMessageStreamEvent>,
  ctx: StreamContext,
): Promise<StreamOutcome> {
  const mapper = new AnthropicStreamMapper(ctx);
  for await (const event of events) mapper.push(event);
  // The SDK ends the iteration quietly when the request is aborted.
  if (ctx.signal.aborted) throw new ProviderFailure('aborted', 'request aborted');
  return mapper.finish();
}

class AnthropicStreamMapper {
  /** `open` between `message_start` and `message_stop`: one message per stream. */
  private phase: 'before' | 'open' | 'stopped' = 'before';
  private readonly blocks = new Map<number, OpenBlock>();
  private usage: Usage = { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 };
  private stopReason: string | null | undefined;

  constructor(private readonly ctx: StreamContext) {}

  push(event: Anthropic.RawMessageStreamEvent): void {
    switch (event.type) {
      case 'message_start':
        this.messageStart(event.message);
        break;
      case 'content_block_start':
        this.blockStart(event.index, event.content_block);
        break;
      case 'content_block_delta':
        this.blockDelta(event.index, event.delta);
        break;
      case 'content_block_stop':
        this.blockStop(event.index);
        break;
      case 'message_delta':
        this.stopReason = event.delta.stop_reason ?? this.stopReason;
        this.mergeUsage(event.usage);
        break;
      case 'message_stop':
        this.phase = 'stopped';
        break;
    }
  }

  finish(): StreamOutcome {
    if (this.phase !== 'stopped') throw new ProviderFailure('connection', 'Anthropic stream ended before message_stop');
    return mapStopReason(this.stopReason);
  }

  /**
   * The message opens. Some gateways send the whole answer here — content and stop reason inside
   * `message_start`, then only `message_stop` — so its content is played as blocks too. A second
   * `message_start` is a broken stream: two answers cannot become one message.
   */
  private messageStart(message: Anthropic.Message): void {
    if (this.phase !== 'before')
      throw new ProviderFailure('bad_response', 'Anthropic stream sent a second message_start before the first ended');
    this.phase = 'open';
    this.ctx.started();
    this.mergeUsage(message.usage);
    for (const [index, block] of (message.content ?? []).entries()) {
      this.blockStart(index, block);
      this.blockStop(index);
    }
    this.stopReason = message.stop_reason ?? this.stopReason;
  }

  private blockStart(index: number, block: WireBlock): void {
    const { sink, toolNames } = this.ctx;
    switch (block.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text' });
        sink.text(index, block.text);
        break;
      case 'thinking':
        this.blocks.set(index, { kind: 'thinking' });
        sink.thinking(index, block.thinking ?? '', block.signature || undefined);
        break;
      case 'redacted_thinking':
        sink.redactedThinking(index, block.data);
        break;
      case 'tool_use': {
        const input = block.input as Record<string, unknown> | null | undefined;
        this.blocks.set(index, {
          kind: 'tool',
          id: block.id,
          startInput: input && Object.keys(input).length > 0 ? JSON.stringify(input) : '',
          sawDelta: false,
        });
        sink.toolCallStart(index, block.id, toolNames.get(block.name) ?? block.name);
        break;
      }
      // server tools (web search, code execution) run at Anthropic; nothing for the caller to do
    }
  }

  private blockDelta(index: number, delta: Anthropic.RawContentBlockDelta): void {
    const { sink } = this.ctx;
    const block = this.blocks.get(index);
    if (delta.type === 'text_delta') sink.text(index, delta.text);
    else if (delta.type === 'thinking_delta') sink.thinking(index, delta.thinking);
    else if (delta.type === 'signature_delta') sink.thinking(index, '', delta.signature);
    else if (delta.type === 'input_json_delta' && block?.kind === 'tool') {
      block.sawDelta = true;
      sink.toolCallDelta(index, block.id, delta.partial_json);
    }
    // citations have no place in our contract
  }

  private blockStop(index: number): void {
    const block = this.blocks.get(index);
    this.blocks.delete(index);
    if (block?.kind !== 'tool') return;
    // Input that came whole with the block (no input_json_delta followed) is the call's arguments.
    if (!block.sawDelta && block.startInput) this.ctx.sink.toolCallDelta(index, block.id, block.startInput);
    this.ctx.sink.toolCallEnd(index, block.id);
  }

  /** Later reports win field by field; a field a report leaves out (or null) keeps its value. */
  private mergeUsage(wire: WireUsage | null | undefined): void {
    if (!wire) return;
    const current = this.usage;
    this.usage = {
      ...current,
      input_tokens: wire.input_tokens ?? current.input_tokens,
      output_tokens: wire.output_tokens ?? current.output_tokens,
      cache_write_tokens: wire.cache_creation_input_tokens ?? current.cache_write_tokens,
      cache_read_tokens: wire.cache_read_input_tokens ?? current.cache_read_tokens,
    };
    this.ctx.sink.usage(this.usage);
  }
}

type WireUsage = {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
};
