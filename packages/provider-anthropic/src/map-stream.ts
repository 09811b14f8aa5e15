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

/**
 * Anthropic's raw stream events → our normalized events. Anthropic's block `index` is the
 * content index; tool input arrives as partial JSON per block and is parsed at the block's
 * stop; usage comes in `message_start` (input, cache) and `message_delta` (output, and
 * cumulative totals on newer API versions) and is merged. `ping` never reaches here (the SDK
 * drops it) and an `error` event makes the SDK throw.
 */
export async function mapStream(
  events: AsyncIterable<Anthropic.RawMessageStreamEvent>,
  ctx: StreamContext,
): Promise<StreamOutcome> {
  const { sink } = ctx;
  const toolIds = new Map<number, string>();
  let usage: Usage = { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 };
  let stopReason: string | null | undefined;
  let stopped = false;

  for await (const event of events) {
    switch (event.type) {
      case 'message_start':
        ctx.started();
        usage = mergeUsage(usage, event.message.usage);
        sink.usage(usage);
        break;
      case 'content_block_start':
        startBlock(event.index, event.content_block, ctx, toolIds);
        break;
      case 'content_block_delta': {
        const { index, delta } = event;
        if (delta.type === 'text_delta') sink.text(index, delta.text);
        else if (delta.type === 'thinking_delta') sink.thinking(index, delta.thinking);
        else if (delta.type === 'signature_delta') sink.thinking(index, '', delta.signature);
        else if (delta.type === 'input_json_delta') {
          const id = toolIds.get(index);
          if (id !== undefined) sink.toolCallDelta(index, id, delta.partial_json);
        }
        break; // citations and server-tool deltas have no place in our contract
      }
      case 'content_block_stop': {
        const id = toolIds.get(event.index);
        if (id !== undefined) sink.toolCallEnd(event.index, id);
        break;
      }
      case 'message_delta':
        stopReason = event.delta.stop_reason ?? stopReason;
        usage = mergeUsage(usage, event.usage);
        sink.usage(usage);
        break;
      case 'message_stop':
        stopped = true;
        break;
    }
  }
  // The SDK ends the iteration quietly when the request is aborted.
  if (ctx.signal.aborted) throw new ProviderFailure('aborted', 'request aborted');
  if (!stopped) throw new ProviderFailure('connection', 'Anthropic stream ended before message_stop');
  return mapStopReason(stopReason);
}

function startBlock(
  index: number,
  block: Anthropic.RawContentBlockStartEvent['content_block'],
  ctx: StreamContext,
  toolIds: Map<number, string>,
): void {
  switch (block.type) {
    case 'text':
      ctx.sink.text(index, block.text);
      break;
    case 'thinking':
      ctx.sink.thinking(index, block.thinking ?? '', block.signature || undefined);
      break;
    case 'redacted_thinking':
      ctx.sink.redactedThinking(index, block.data);
      break;
    case 'tool_use':
      toolIds.set(index, block.id);
      ctx.sink.toolCallStart(index, block.id, ctx.toolNames.get(block.name) ?? block.name);
      break;
    // server tools (web search, code execution) run at Anthropic; nothing for the caller to do
  }
}

type WireUsage = {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
};

/** Later reports win field by field; a field a report leaves out (or null) keeps its value. */
function mergeUsage(current: Usage, wire: WireUsage | null | undefined): Usage {
  if (!wire) return current;
  return {
    ...current,
    input_tokens: wire.input_tokens ?? current.input_tokens,
    output_tokens: wire.output_tokens ?? current.output_tokens,
    cache_write_tokens: wire.cache_creation_input_tokens ?? current.cache_write_tokens,
    cache_read_tokens: wire.cache_read_input_tokens ?? current.cache_read_tokens,
  };
}
