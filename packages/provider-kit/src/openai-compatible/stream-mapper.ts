import type { ModelPricing, StopReason, Usage } from '@iii-harness/types';
import type { StreamSink } from '../event-sink.js';
import { costOf } from '../pricing.js';
import type { StreamOutcome } from '../provider-worker.js';

/** What we read of a `chat.completion.chunk`; everything optional, since servers differ. */
export interface ChatChunk {
  choices?: Array<{
    index?: number;
    delta?: ChatDelta | null;
    finish_reason?: string | null;
    usage?: WireUsage | null;
  }>;
  usage?: WireUsage | null;
}
export interface ChatDelta {
  content?: string | null;
  refusal?: string | null;
  /** DeepSeek, Moonshot, llama.cpp (`--reasoning-format deepseek`), LM Studio. */
  reasoning_content?: string | null;
  /** OpenRouter, Ollama and newer local servers. */
  reasoning?: string | null;
  tool_calls?: WireToolCallDelta[] | null;
  /** Search models cite their sources on the text as `url_citation` annotations. */
  annotations?: WireAnnotation[] | null;
}
export interface WireAnnotation {
  type?: string;
  url_citation?: { url?: string; title?: string; start_index?: number; end_index?: number };
}
export interface WireToolCallDelta {
  index?: number;
  id?: string | null;
  function?: { name?: string | null; arguments?: string | null } | null;
}
export interface WireUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number | null } | null;
  completion_tokens_details?: { reasoning_tokens?: number | null } | null;
  /** Moonshot reports cache hits at the top level of usage. */
  cached_tokens?: number;
}

/** Indexes above this are a server bug, not 256 parallel calls; they fold into the latest call. */
export const MAX_TOOL_INDEX = 255;

/**
 * Usage in our terms. OpenAI's `prompt_tokens` INCLUDES cached tokens; we report `input_tokens`
 * as the uncached part and the cached part as `cache_read_tokens`, so that
 * `input × price.input + cache_read × price.cache_read` is the vendor's bill (the Anthropic
 * convention, where input_tokens never includes cache reads). `output_tokens` includes reasoning
 * tokens (they are billed as output); `reasoning_tokens` says how many of them there were.
 */
export function usageFromWire(wire: WireUsage, pricing?: ModelPricing): Usage {
  const cached = wire.prompt_tokens_details?.cached_tokens ?? wire.cached_tokens ?? 0;
  const reasoning = wire.completion_tokens_details?.reasoning_tokens;
  const completion = wire.completion_tokens ?? 0;
  const usage: Usage = {
    input_tokens: Math.max(0, (wire.prompt_tokens ?? 0) - cached),
    output_tokens: reasoningExcluded(wire) ? completion + reasoning! : completion,
    cache_read_tokens: cached,
    cache_write_tokens: 0,
    ...(typeof reasoning === 'number' ? { reasoning_tokens: reasoning } : {}),
  };
  return pricing ? { ...usage, cost_usd: costOf(usage, pricing) } : usage;
}

/**
 * OpenAI counts reasoning inside `completion_tokens` (`total = prompt + completion`). Some
 * compatible servers (xAI) report it beside them: `total = prompt + completion + reasoning`, or
 * more reasoning tokens than completion tokens. Either way the reasoning is billed as output too.
 */
function reasoningExcluded(wire: WireUsage): boolean {
  const reasoning = wire.completion_tokens_details?.reasoning_tokens ?? 0;
  if (reasoning <= 0) return false;
  const completion = wire.completion_tokens ?? 0;
  if (reasoning > completion) return true;
  return wire.total_tokens !== undefined && wire.total_tokens >= (wire.prompt_tokens ?? 0) + completion + reasoning;
}

/** `finish_reason` → our stop reason. Unknown values never throw: `other`, with the raw value kept. */
export function stopReasonFromWire(
  raw: string,
  hadToolCalls: boolean,
): { stop_reason: StopReason; raw_stop_reason?: string } {
  switch (raw) {
    case 'stop':
      // Some local servers finish a tool-call turn with `stop`; the calls are what matters.
      return hadToolCalls ? { stop_reason: 'function_call', raw_stop_reason: raw } : { stop_reason: 'end' };
    case 'length':
      return { stop_reason: 'length' };
    case 'content_filter':
      return { stop_reason: 'refusal', raw_stop_reason: raw };
    case 'tool_calls':
    case 'function_call':
      return { stop_reason: 'function_call' };
    case 'end':
    case 'eos':
    case 'stop_sequence':
      return { stop_reason: hadToolCalls ? 'function_call' : 'end', raw_stop_reason: raw };
    default:
      return { stop_reason: 'other', raw_stop_reason: raw };
  }
}

interface ToolSlot {
  contentIndex: number;
  id?: string;
  name?: string;
  /** Arguments that arrived before the name (the call cannot start without one). */
  pending: string;
  started: boolean;
}

/**
 * Turns chunks into sink events. Content indexes are handed out in order of appearance: a run of
 * reasoning is one thinking block, a run of text one text block, and each tool call its own
 * block. Tool calls are matched by `index` (parallel calls interleave); the id and name are taken
 * from the first delta that has them, and later repeated or empty names are ignored. (The sink
 * coalesces a burst of deltas into a few channel messages; the mapper hands on every one.)
 */
export class ChatChunkMapper {
  private nextIndex = 0;
  private open: { kind: 'text' | 'thinking'; index: number } | undefined;
  private readonly slots: ToolSlot[] = [];
  private readonly byIndex = new Map<number, ToolSlot>();
  private lastToolIndex = 0;
  private wireUsage: WireUsage | undefined;
  private generatedIds = 0;
  private refusal = '';
  finishReason: string | undefined;

  constructor(
    private readonly sink: StreamSink,
    private readonly pricing?: ModelPricing,
  ) {}

  push(chunk: ChatChunk): void {
    if (chunk.usage) this.wireUsage = chunk.usage;
    const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return;
    if (choice.usage) this.wireUsage = choice.usage;
    const delta = choice.delta;
    if (delta) {
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (reasoning) this.sink.thinking(this.blockFor('thinking'), reasoning);
      if (delta.content) this.sink.text(this.blockFor('text'), delta.content);
      if (delta.refusal) {
        this.refusal += delta.refusal;
        this.sink.text(this.blockFor('text'), delta.refusal);
      }
      for (const annotation of delta.annotations ?? []) this.annotation(annotation);
      for (const call of delta.tool_calls ?? []) this.toolDelta(call);
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
  }

  /** Close open tool calls, report usage, and say why the reply stopped (undefined: it never said). */
  finish(): StreamOutcome | undefined {
    for (const slot of this.slots) {
      if (!slot.started) this.start(slot, slot.name ?? 'unknown');
      this.sink.toolCallEnd(slot.contentIndex, slot.id!);
    }
    if (this.wireUsage) this.sink.usage(usageFromWire(this.wireUsage, this.pricing));
    if (this.finishReason === undefined) return undefined;
    const outcome: StreamOutcome = stopReasonFromWire(this.finishReason, this.slots.length > 0);
    // A `refusal` (the model declined) is its own stop, with the vendor's words as the explanation.
    if (this.refusal && outcome.stop_reason !== 'function_call')
      return {
        stop_reason: 'refusal',
        raw_stop_reason: this.finishReason,
        stop_details: { type: 'refusal', explanation: this.refusal },
      };
    if (outcome.stop_reason === 'refusal') outcome.stop_details = { type: 'content_filter' };
    return outcome;
  }

  /** A `url_citation` on the text streamed so far; other annotation kinds are reported, not dropped. */
  private annotation(annotation: WireAnnotation): void {
    const cite = annotation.url_citation;
    if (annotation.type !== 'url_citation' || !cite) {
      this.sink.warning(
        'unsupported_delta',
        `annotation:${annotation.type}`,
        `annotation ${annotation.type} is not kept`,
      );
      return;
    }
    this.sink.citation(this.blockFor('text'), {
      type: 'url_citation',
      ...(cite.url ? { url: cite.url } : {}),
      ...(cite.title ? { title: cite.title } : {}),
      ...(cite.start_index !== undefined ? { start_index: cite.start_index } : {}),
      ...(cite.end_index !== undefined ? { end_index: cite.end_index } : {}),
    });
  }

  private blockFor(kind: 'text' | 'thinking'): number {
    if (this.open?.kind !== kind) this.open = { kind, index: this.nextIndex++ };
    return this.open.index;
  }

  private toolDelta(call: WireToolCallDelta): void {
    const slot = this.slotFor(call);
    if (call.id && !slot.id) slot.id = call.id;
    const name = call.function?.name;
    if (name && !slot.name) slot.name = name;
    const args = call.function?.arguments ?? '';
    if (slot.started) {
      this.sink.toolCallDelta(slot.contentIndex, slot.id!, args);
      return;
    }
    slot.pending += args;
    if (slot.name) this.start(slot, slot.name);
  }

  private slotFor(call: WireToolCallDelta): ToolSlot {
    const valid = Number.isInteger(call.index) && call.index! >= 0 && call.index! <= MAX_TOOL_INDEX;
    const index = valid ? call.index! : this.lastToolIndex;
    this.lastToolIndex = index;
    const current = this.byIndex.get(index);
    // A new id with a name at a taken index: a server that numbers every parallel call 0.
    const isNewCall = current && call.id && current.id && call.id !== current.id && call.function?.name;
    if (current && !isNewCall) return current;
    const slot: ToolSlot = { contentIndex: -1, pending: '', started: false };
    this.slots.push(slot);
    this.byIndex.set(index, slot);
    return slot;
  }

  private start(slot: ToolSlot, name: string): void {
    slot.id ??= `call_${Date.now().toString(36)}_${this.generatedIds++}`;
    slot.contentIndex = this.nextIndex++;
    slot.started = true;
    this.open = undefined;
    this.sink.toolCallStart(slot.contentIndex, slot.id, name);
    if (slot.pending) this.sink.toolCallDelta(slot.contentIndex, slot.id, slot.pending);
    slot.pending = '';
  }
}
