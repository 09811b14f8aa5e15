import type { Citation, ModelPricing } from '@iii-harness/types';
import type { StreamSink } from '../event-sink.js';
import { type FailureKind, isContextOverflow, ProviderFailure } from '../failures.js';
import { usageFromWire } from '../openai-compatible/stream-mapper.js';
import type { StreamOutcome } from '../provider-worker.js';
import { reasoningSignature } from './convert-input.js';

/** What we read of a Responses stream event; everything optional, since the vendor adds fields. */
// biome-ignore lint/suspicious/noExplicitAny: vendor events are read field by field, each checked where used
export type ResponsesEvent = { type: string } & Record<string, any>;

interface WireResponse {
  status?: string;
  error?: { code?: string | null; message?: string } | null;
  incomplete_details?: { reason?: string } | null;
  usage?: {
    input_tokens?: number;
    input_tokens_details?: { cached_tokens?: number } | null;
    output_tokens?: number;
    output_tokens_details?: { reasoning_tokens?: number } | null;
    total_tokens?: number;
  } | null;
}

/** One output item of the response, by `output_index`, and where it went in our message. */
type Slot =
  | { kind: 'message'; parts: Map<number, { index: number; streamed: boolean }> }
  | { kind: 'reasoning'; index: number; streamed: boolean }
  | { kind: 'call'; index: number; callId: string; streamed: boolean }
  /** An item we cannot carry: reported once, its events skipped. */
  | { kind: 'unsupported' };

/** Events that carry nothing we need beyond what their siblings already gave. */
const QUIET = new Set([
  'response.in_progress',
  'response.queued',
  'response.content_part.done',
  'response.output_text.done',
  'response.refusal.done',
  'response.reasoning_summary_part.done',
  'response.reasoning_summary_text.done',
  'response.reasoning_text.done',
]);

/**
 * Responses stream events → our normalized events. Content indexes are handed out in order of
 * appearance: each reasoning item is one thinking block (its summary parts joined by a blank
 * line, its encrypted content kept as the block's signature), each message content part one text
 * block (annotations become its citations, a refusal makes the stop `refusal`), each function call
 * its own block. The terminal status decides the stop; `failed` and `error` end the request with
 * one error. Items and events we cannot carry are reported as warnings, never dropped silently.
 */
export class ResponsesStreamMapper {
  private nextIndex = 0;
  private readonly slots = new Map<number, Slot>();
  private created = false;
  private final: WireResponse | undefined;
  private refusal = '';
  private calls = 0;

  constructor(
    private readonly sink: StreamSink,
    private readonly pricing?: ModelPricing,
  ) {}

  /** The response reached a terminal status (completed, incomplete, cancelled). */
  get ended(): boolean {
    return this.final !== undefined;
  }

  push(event: ResponsesEvent): void {
    if (this.final) return;
    switch (event.type) {
      case 'response.created':
        if (this.created)
          throw new ProviderFailure('bad_response', 'the OpenAI Responses stream started a second response');
        this.created = true;
        break;
      case 'response.output_item.added':
        this.itemAdded(event.output_index, event.item);
        break;
      case 'response.output_item.done':
        this.itemDone(event.output_index, event.item);
        break;
      case 'response.content_part.added':
        if (this.slots.get(event.output_index)?.kind === 'message')
          this.partIndex(event.output_index, event.content_index);
        break;
      case 'response.output_text.delta':
        this.textDelta(event.output_index, event.content_index, event.delta);
        break;
      case 'response.refusal.delta':
        this.refusal += event.delta ?? '';
        this.textDelta(event.output_index, event.content_index, event.delta);
        break;
      case 'response.output_text.annotation.added':
        this.annotation(event.output_index, event.content_index, event.annotation);
        break;
      case 'response.reasoning_summary_part.added':
        this.summaryPart(event.output_index, event.summary_index);
        break;
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_text.delta':
        this.reasoningDelta(event.output_index, event.delta);
        break;
      case 'response.function_call_arguments.delta':
        this.argumentsDelta(event.output_index, event.delta);
        break;
      case 'response.function_call_arguments.done':
        this.argumentsDone(event.output_index, event.arguments);
        break;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.cancelled':
        this.final = event.response ?? {};
        break;
      case 'response.failed':
        throw responseFailure(event.response?.error, 'the OpenAI response failed');
      case 'error':
        throw responseFailure(event as { code?: string; message?: string }, 'error in the OpenAI Responses stream');
      default:
        if (QUIET.has(event.type) || this.belongsToUnsupported(event)) break;
        this.sink.warning('unsupported_event', event.type, `OpenAI Responses event ${event.type} is not supported`);
    }
  }

  /** Close what is open, report usage, and say why the response stopped. */
  finish(): StreamOutcome {
    const final = this.final;
    if (!final) throw new ProviderFailure('connection', 'the OpenAI Responses stream ended before the response did');
    const usage = final.usage;
    if (usage)
      this.sink.usage(
        usageFromWire(
          {
            prompt_tokens: usage.input_tokens,
            completion_tokens: usage.output_tokens,
            total_tokens: usage.total_tokens,
            prompt_tokens_details: usage.input_tokens_details,
            completion_tokens_details: usage.output_tokens_details,
          },
          this.pricing,
        ),
      );
    return this.stopOf(final);
  }

  private stopOf(final: WireResponse): StreamOutcome {
    const status = final.status ?? 'completed';
    if (status === 'completed') {
      if (this.calls > 0) return { stop_reason: 'function_call' };
      if (this.refusal) return { stop_reason: 'refusal', stop_details: { type: 'refusal', explanation: this.refusal } };
      return { stop_reason: 'end' };
    }
    if (status === 'incomplete') {
      const reason = final.incomplete_details?.reason ?? 'incomplete';
      if (reason === 'max_output_tokens') return { stop_reason: 'length' };
      if (reason === 'content_filter')
        return { stop_reason: 'refusal', raw_stop_reason: reason, stop_details: { type: 'content_filter' } };
      return { stop_reason: 'other', raw_stop_reason: reason };
    }
    if (status === 'cancelled') return { stop_reason: 'aborted', raw_stop_reason: status };
    return { stop_reason: 'other', raw_stop_reason: status };
  }

  private itemAdded(outputIndex: number, item: ResponsesEvent): void {
    switch (item?.type) {
      case 'message':
        this.slots.set(outputIndex, { kind: 'message', parts: new Map() });
        break;
      case 'reasoning':
        this.slots.set(outputIndex, { kind: 'reasoning', index: this.nextIndex++, streamed: false });
        break;
      case 'function_call': {
        const slot = { kind: 'call' as const, index: this.nextIndex++, callId: String(item.call_id), streamed: false };
        this.slots.set(outputIndex, slot);
        this.calls++;
        this.sink.toolCallStart(slot.index, slot.callId, String(item.name));
        if (item.arguments) this.argumentsDelta(outputIndex, item.arguments);
        break;
      }
      default:
        this.slots.set(outputIndex, { kind: 'unsupported' });
        this.sink.warning(
          'unsupported_item',
          String(item?.type),
          `OpenAI Responses output item ${item?.type} is not supported`,
        );
    }
  }

  /** A finished item: encrypted reasoning is kept; content that never streamed as deltas is taken whole. */
  private itemDone(outputIndex: number, item: ResponsesEvent): void {
    if (!this.slots.has(outputIndex)) this.itemAdded(outputIndex, item);
    const slot = this.slots.get(outputIndex)!;
    if (slot.kind === 'reasoning') {
      const summary = Array.isArray(item.summary) ? item.summary : [];
      if (!slot.streamed) {
        const text = summary.map((part: { text?: string }) => part.text ?? '').join('\n\n');
        if (text) this.reasoningDelta(outputIndex, text);
      }
      if (typeof item.encrypted_content === 'string' && item.encrypted_content) {
        const signature = reasoningSignature({
          id: String(item.id),
          summary,
          encrypted_content: item.encrypted_content,
        });
        if (slot.streamed) this.sink.thinking(slot.index, '', signature);
        else this.sink.redactedThinking(slot.index, signature);
      }
    } else if (slot.kind === 'message') {
      for (const [n, part] of (Array.isArray(item.content) ? item.content : []).entries()) {
        if (slot.parts.get(n)?.streamed) continue;
        if (part?.type === 'refusal') this.refusal += part.refusal ?? '';
        this.textDelta(outputIndex, n, part?.text ?? part?.refusal ?? '');
        for (const annotation of part?.annotations ?? []) this.annotation(outputIndex, n, annotation);
      }
    } else if (slot.kind === 'call') {
      if (!slot.streamed && item.arguments) this.argumentsDelta(outputIndex, item.arguments);
      this.sink.toolCallEnd(slot.index, slot.callId);
    }
  }

  private partIndex(outputIndex: number, contentIndex: number): { index: number; streamed: boolean } | undefined {
    const slot = this.slots.get(outputIndex);
    if (slot?.kind !== 'message') return undefined;
    let part = slot.parts.get(contentIndex);
    if (!part) {
      part = { index: this.nextIndex++, streamed: false };
      slot.parts.set(contentIndex, part);
    }
    return part;
  }

  private textDelta(outputIndex: number, contentIndex: number, delta: unknown): void {
    if (!this.slots.has(outputIndex)) this.slots.set(outputIndex, { kind: 'message', parts: new Map() });
    const part = this.partIndex(outputIndex, contentIndex ?? 0);
    if (!part || typeof delta !== 'string' || !delta) return;
    part.streamed = true;
    this.sink.text(part.index, delta);
  }

  private annotation(outputIndex: number, contentIndex: number, annotation: ResponsesEvent | undefined): void {
    const part = this.partIndex(outputIndex, contentIndex ?? 0);
    if (!part || !annotation?.type) return;
    this.sink.citation(part.index, citationOf(annotation));
  }

  private summaryPart(outputIndex: number, summaryIndex: number): void {
    const slot = this.slots.get(outputIndex);
    if (slot?.kind === 'reasoning' && summaryIndex > 0 && slot.streamed) this.sink.thinking(slot.index, '\n\n');
  }

  private reasoningDelta(outputIndex: number, delta: unknown): void {
    const slot = this.slots.get(outputIndex);
    if (slot?.kind !== 'reasoning' || typeof delta !== 'string' || !delta) return;
    slot.streamed = true;
    this.sink.thinking(slot.index, delta);
  }

  private argumentsDelta(outputIndex: number, delta: unknown): void {
    const slot = this.slots.get(outputIndex);
    if (slot?.kind !== 'call' || typeof delta !== 'string' || !delta) return;
    slot.streamed = true;
    this.sink.toolCallDelta(slot.index, slot.callId, delta);
  }

  /** `…arguments.done` carries the whole JSON: used only when no delta came before it. */
  private argumentsDone(outputIndex: number, args: unknown): void {
    const slot = this.slots.get(outputIndex);
    if (slot?.kind === 'call' && !slot.streamed) this.argumentsDelta(outputIndex, args);
  }

  private belongsToUnsupported(event: ResponsesEvent): boolean {
    return typeof event.output_index === 'number' && this.slots.get(event.output_index)?.kind === 'unsupported';
  }
}

/** An annotation (`url_citation`, `file_citation`, …) as a citation; the vendor object is kept. */
function citationOf(annotation: ResponsesEvent): Citation {
  return {
    type: String(annotation.type),
    ...(typeof annotation.url === 'string' ? { url: annotation.url } : {}),
    ...(typeof annotation.title === 'string' ? { title: annotation.title } : {}),
    ...(typeof annotation.filename === 'string' && !annotation.title ? { title: annotation.filename } : {}),
    ...(Number.isInteger(annotation.start_index) ? { start_index: annotation.start_index } : {}),
    ...(Number.isInteger(annotation.end_index) ? { end_index: annotation.end_index } : {}),
    vendor: JSON.parse(JSON.stringify(annotation)),
  };
}

/** A failed response or an `error` event, classified by the vendor's error code. */
function responseFailure(
  error: { code?: string | null; message?: string } | null | undefined,
  what: string,
): ProviderFailure {
  const code = error?.code ?? undefined;
  const message = `${what}: ${error?.message ?? 'no detail'}${code ? ` (${code})` : ''}`;
  const kind: FailureKind = isContextOverflow({ message: error?.message, code })
    ? 'context_overflow'
    : code === 'rate_limit_exceeded'
      ? 'rate_limited'
      : code === 'server_error'
        ? 'server'
        : /^invalid_|_policy$|^image_|^empty_|^unsupported_|^failed_to_download/.test(code ?? '')
          ? 'bad_request'
          : 'unknown';
  return new ProviderFailure(kind, message, kind === 'unknown' ? { retryable: false } : {});
}
