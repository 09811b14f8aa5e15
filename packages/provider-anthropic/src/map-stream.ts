import type Anthropic from '@anthropic-ai/sdk';
import { ProviderFailure, parseToolArguments, type StreamOutcome, type StreamSink } from '@iii-harness/provider-kit';
import type { JsonObject, StopDetails, Usage } from '@iii-harness/types';
import { mapStopReason } from './map-stop-reason.js';
import { citationFromWire, SERVER_TOOL_RESULT_TYPES, serverResultFromWire } from './server-blocks.js';

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
  | { kind: 'text' | 'thinking' | 'done' }
  /** A block we cannot carry: reported once at its start, its deltas skipped. */
  | { kind: 'unsupported' }
  | {
      kind: 'tool';
      id: string;
      /** The input `content_block_start` carried, as JSON: sent when no `input_json_delta` follows. */
      startInput: string;
      sawDelta: boolean;
    }
  /** A tool Anthropic runs itself: its input is gathered and the block emitted whole at its stop. */
  | { kind: 'server_tool'; id: string; name: string; startInput: string; json: string };

type Event = Anthropic.RawMessageStreamEvent | { type: string };

/**
 * Anthropic's raw stream events → our normalized events, one handler per event family. Anthropic's
 * block `index` is the content index; tool input arrives as partial JSON per block and is parsed at
 * the block's stop; usage comes in `message_start` (input, cache) and `message_delta` (output, and
 * cumulative totals on newer API versions) and is merged. Citations join their text block; server
 * tools and their results become whole blocks; a refusal keeps its `stop_details`. Whatever we
 * cannot carry (an unknown block, delta or event) is reported as a warning, never dropped
 * silently. `ping` never reaches here (the SDK drops it) and an `error` event makes the SDK throw.
 */
export async function mapStream(
  events: AsyncIterable<Anthropic.RawMessageStreamEvent>,
  ctx: StreamContext,
): Promise<StreamOutcome> {
  const mapper = new AnthropicStreamMapper(ctx);
  for await (const event of events as AsyncIterable<Event>) mapper.push(event);
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
  private stopDetails: StopDetails | undefined;

  constructor(private readonly ctx: StreamContext) {}

  push(raw: Event): void {
    const event = raw as Anthropic.RawMessageStreamEvent;
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
        this.noteStopDetails(event.delta.stop_details);
        this.mergeUsage(event.usage);
        this.noteUnsupportedFields('message_delta', event as unknown as Record<string, unknown>);
        break;
      case 'message_stop':
        this.phase = 'stopped';
        break;
      default:
        this.ctx.sink.warning('unsupported_event', raw.type, `Anthropic stream event ${raw.type} is not supported`);
    }
  }

  finish(): StreamOutcome {
    if (this.phase !== 'stopped') throw new ProviderFailure('connection', 'Anthropic stream ended before message_stop');
    const outcome = mapStopReason(this.stopReason);
    if (outcome.stop_reason === 'refusal') outcome.stop_details = this.stopDetails ?? { type: 'refusal' };
    return outcome;
  }

  private noteStopDetails(details: Anthropic.RefusalStopDetails | null | undefined): void {
    if (!details) return;
    this.stopDetails = {
      type: details.type,
      ...(details.category ? { category: details.category } : {}),
      ...(details.explanation ? { explanation: details.explanation } : {}),
    };
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
    this.noteStopDetails(message.stop_details);
    this.noteUnsupportedFields('message', message as unknown as Record<string, unknown>);
  }

  /**
   * Message-level state we do not keep: the code-execution `container` (so a later request cannot
   * reuse it) and `context_management` edits (beta). Reported, not dropped silently.
   */
  private noteUnsupportedFields(where: string, fields: Record<string, unknown>): void {
    for (const field of ['container', 'context_management'])
      if (fields[field] !== undefined && fields[field] !== null)
        this.ctx.sink.warning('unsupported_event', `${where}.${field}`, `Anthropic ${where}.${field} is not kept`);
  }

  private blockStart(index: number, block: WireBlock): void {
    const { sink, toolNames } = this.ctx;
    switch (block.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text' });
        sink.text(index, block.text);
        for (const citation of block.citations ?? []) sink.citation(index, citationFromWire(citation));
        break;
      case 'thinking':
        this.blocks.set(index, { kind: 'thinking' });
        sink.thinking(index, block.thinking ?? '', block.signature || undefined);
        break;
      case 'redacted_thinking':
        this.blocks.set(index, { kind: 'done' });
        sink.redactedThinking(index, block.data);
        break;
      case 'tool_use':
        this.blocks.set(index, { kind: 'tool', id: block.id, startInput: inputJson(block.input), sawDelta: false });
        sink.toolCallStart(index, block.id, toolNames.get(block.name) ?? block.name);
        break;
      case 'server_tool_use':
        this.blocks.set(index, {
          kind: 'server_tool',
          id: block.id,
          name: block.name,
          startInput: inputJson(block.input),
          json: '',
        });
        break;
      default:
        if (SERVER_TOOL_RESULT_TYPES.has(block.type) && 'tool_use_id' in block) {
          this.blocks.set(index, { kind: 'done' });
          sink.block(index, serverResultFromWire(block));
          break;
        }
        this.blocks.set(index, { kind: 'unsupported' });
        sink.warning('unsupported_block', block.type, `Anthropic content block ${block.type} is not supported`);
    }
  }

  private blockDelta(index: number, delta: Anthropic.RawContentBlockDelta): void {
    const { sink } = this.ctx;
    const block = this.blocks.get(index);
    if (block?.kind === 'unsupported') return; // reported at its start
    switch (delta.type) {
      case 'text_delta':
        sink.text(index, delta.text);
        break;
      case 'citations_delta':
        sink.citation(index, citationFromWire(delta.citation));
        break;
      case 'thinking_delta':
        sink.thinking(index, delta.thinking);
        break;
      case 'signature_delta':
        sink.thinking(index, '', delta.signature);
        break;
      case 'input_json_delta':
        if (block?.kind === 'tool') {
          block.sawDelta = true;
          sink.toolCallDelta(index, block.id, delta.partial_json);
        } else if (block?.kind === 'server_tool') block.json += delta.partial_json;
        break;
      default: {
        const type = (delta as { type: string }).type;
        sink.warning('unsupported_delta', type, `Anthropic delta ${type} is not supported`);
      }
    }
  }

  private blockStop(index: number): void {
    const block = this.blocks.get(index);
    this.blocks.delete(index);
    if (block?.kind === 'server_tool') {
      const input = parseToolArguments(block.json || block.startInput) as JsonObject;
      this.ctx.sink.block(index, { type: 'server_tool_use', id: block.id, name: block.name, input });
      return;
    }
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

/** A block's `input` as JSON, or '' when it is empty (the input will stream as deltas). */
function inputJson(input: unknown): string {
  return input && typeof input === 'object' && Object.keys(input).length > 0 ? JSON.stringify(input) : '';
}

type WireUsage = {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
};
