import type {
  AgentEvent,
  AssistantMessage,
  Citation,
  JsonObject,
  JsonValue,
  Message,
  ServerToolResultBlock,
  ServerToolUseBlock,
  TurnOutcome,
  Usage,
} from '@iii-harness/types';
import { splitComplete } from '../render/split.js';
import { distinctSources, refusalText, sourceLine, summarizeServerResult } from './vendor-blocks.js';

/**
 * What the chat shows, built from agent events (and, for a resumed session, from its stored
 * messages). Finished lines are `items`: appended once, never changed, so the terminal can print
 * them into its scrollback. What is still moving (the paragraph being streamed, running calls,
 * held calls, the turn's state) is `live`. Deduplication and ordering of events happen before
 * this (EventFeed): every event given here is new.
 */

export type Item =
  | { kind: 'user'; id: number; text: string; queued?: boolean }
  | { kind: 'markdown'; id: number; text: string }
  | { kind: 'thinking'; id: number; ref: number; chars: number }
  | { kind: 'call'; id: number; ref: number; function_id: string; args: JsonValue; held?: boolean }
  | {
      kind: 'result';
      id: number;
      ref: number;
      function_id: string;
      text: string;
      is_error: boolean;
      duration_ms?: number;
    }
  | { kind: 'decision'; id: number; ref: number; function_id: string; decision: string; reason?: string }
  /** A tool the vendor ran itself (web search, code execution…): shown, never run by the harness. */
  | { kind: 'vendor_call'; id: number; ref: number; name: string; input: JsonValue; provider: string }
  | { kind: 'vendor_result'; id: number; ref: number; name: string; lines: string[]; is_error: boolean }
  /** The sources a text block cites, numbered. */
  | { kind: 'sources'; id: number; lines: string[] }
  | { kind: 'notice'; id: number; level: 'info' | 'warn' | 'error'; text: string }
  | {
      kind: 'turn_end';
      id: number;
      status: TurnOutcome;
      usage: Usage;
      cost_usd?: number;
      reason?: string;
      error?: string;
      duration_ms?: number;
    }
  | { kind: 'expanded'; id: number; ref: number; title: string; text: string }
  | { kind: 'output'; id: number; text: string };

type ItemInput = Item extends infer I ? (I extends Item ? Omit<I, 'id'> : never) : never;

export interface HeldCall {
  function_call_id: string;
  function_id: string;
  args: JsonValue;
  ref: number;
}

export interface LiveTurn {
  turn_id: string;
  provider?: string;
  model?: string;
  state: string;
  started_at: number;
  /** A worker the turn needs is missing: the turn waits for it until `gives_up_at`. */
  waiting?: { function_id: string; reason: string; gives_up_at: number };
}

export interface Live {
  turn?: LiveTurn;
  /** Markdown of the block being streamed that is not an item yet. */
  text: string;
  thinking?: { chars: number };
  preparingCall: boolean;
  running: Array<{ function_call_id: string; ref: number; function_id: string; started_at: number }>;
  approvals: HeldCall[];
}

interface OpenBlock {
  kind: 'text' | 'thinking' | 'tool_call';
  index: number;
  received: string;
  /** Text still to be committed (may begin with a code fence reopened after a forced cut). */
  pending: string;
  committed: boolean;
  /**
   * Held back until the message completes: a block the vendor sent whole (a search it ran) came
   * before this one, and only the final message says what it was. Shown live meanwhile.
   */
  deferred: boolean;
}

/** Past this much held-back text, order gives way: the answer is committed as it streams. */
const DEFER_MAX_CHARS = 1_500;

/** What `/expand <n>` can show in full. */
interface Expandable {
  title: string;
  text: string;
}

export class Transcript {
  readonly items: Item[] = [];
  live: Live = { text: '', preparingCall: false, running: [], approvals: [] };
  /** Bumped on every change (the UI re-renders on it). */
  version = 0;

  private nextId = 1;
  private nextRef = 1;
  private refs = new Map<string, number>();
  private expandables = new Map<number, Expandable>();
  private announced = new Set<string>();
  private block: OpenBlock | undefined;
  /** Content indexes of the current message that arrived as deltas (so the final copy is not shown again). */
  private streamedIndexes = new Set<number>();
  /** The content index the next streamed block should have; a higher one means blocks came whole. */
  private expectIndex = 0;
  private deferring = false;
  private listeners = new Set<() => void>();
  /** Vendor tool uses shown so far (id → ref and name), so each is shown once and its result named. */
  private vendorCalls = new Map<string, { ref: number; name: string }>();

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }

  add(item: ItemInput): void {
    this.items.push({ ...item, id: this.nextId++ } as Item);
    this.changed();
  }

  notice(text: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    this.add({ kind: 'notice', level, text });
  }

  /** The user's own message, shown as soon as it is sent (queued: merged into the running turn). */
  user(text: string, queued = false): void {
    this.add({ kind: 'user', text, ...(queued ? { queued } : {}) });
  }

  /** The latest ref that can be expanded (Ctrl-O), if any. */
  lastExpandable(): number | undefined {
    return this.nextRef > 1 ? this.nextRef - 1 : undefined;
  }

  /** Show a call's full arguments and result, or a thought in full. */
  expand(ref: number): boolean {
    const found = this.expandables.get(ref);
    if (!found) return false;
    this.add({ kind: 'expanded', ref, title: found.title, text: found.text });
    return true;
  }

  get turnLive(): boolean {
    return this.live.turn !== undefined;
  }

  // --- agent events ----------------------------------------------------------------------

  apply(event: AgentEvent): void {
    // Any news of the turn means what it waited for is back.
    if (this.live.turn?.waiting && event.type !== 'turn_waiting') this.live.turn.waiting = undefined;
    switch (event.type) {
      case 'turn_started':
        this.live.turn = {
          turn_id: event.turn_id,
          provider: event.provider,
          model: event.model,
          state: 'provisioning',
          started_at: event.timestamp,
        };
        break;
      case 'turn_waiting':
        this.ensureTurn(event.turn_id, event.timestamp).waiting = {
          function_id: event.function_id,
          reason: event.reason,
          gives_up_at: event.gives_up_at,
        };
        break;
      case 'turn_state_changed':
        this.ensureTurn(event.turn_id, event.timestamp).state = event.state;
        break;
      case 'message_update':
        this.ensureTurn(event.turn_id, event.timestamp);
        this.delta(event.kind, event.content_index, event.delta);
        break;
      case 'message_complete':
        this.completeMessage(event.message);
        break;
      case 'function_execution_start':
        this.announceCall(event.function_call_id, event.function_id, event.args);
        this.live.running.push({
          function_call_id: event.function_call_id,
          ref: this.refOf(event.function_call_id),
          function_id: event.function_id,
          started_at: event.timestamp,
        });
        break;
      case 'function_execution_end':
        this.endCall(event);
        break;
      case 'approval_requested':
        this.hold({ function_call_id: event.function_call_id, function_id: event.function_id, args: event.args });
        break;
      case 'approval_resolved':
        this.resolved(event.function_call_id, event.decision, event.reason);
        break;
      case 'compaction_done':
        this.notice(
          `context compacted: ${event.tokens_before} tokens${event.tokens_after !== undefined ? ` → ${event.tokens_after}` : ''}`,
        );
        break;
      case 'budget_exceeded':
        this.notice(`budget exceeded (${event.scope}): ${event.message}`, 'warn');
        break;
      case 'provider_warning':
        this.notice(
          `part of the reply is not shown: ${event.message} (${event.provider ? `${event.provider}, ` : ''}${event.code})`,
          'warn',
        );
        break;
      case 'turn_completed':
        this.completeTurn(event);
        break;
    }
    this.changed();
  }

  /** A held call (from an event, or found pending after a reconnect). Shown once. */
  hold(call: { function_call_id: string; function_id: string; args: JsonValue }): void {
    this.flushBlock();
    if (this.live.approvals.some((a) => a.function_call_id === call.function_call_id)) return;
    this.announceCall(call.function_call_id, call.function_id, call.args, true);
    this.live.approvals.push({ ...call, ref: this.refOf(call.function_call_id) });
    this.changed();
  }

  /** Drop held calls that are no longer pending (decided while we were away). */
  keepOnlyHeld(pendingIds: Set<string>): void {
    const before = this.live.approvals.length;
    this.live.approvals = this.live.approvals.filter((a) => pendingIds.has(a.function_call_id));
    if (this.live.approvals.length !== before) this.changed();
  }

  /** The turn is known to be over (turn::get_state after a reconnect) though its end event was not seen. */
  endTurnQuietly(): void {
    this.flushBlock();
    this.live = { text: '', preparingCall: false, running: [], approvals: [] };
    this.changed();
  }

  private ensureTurn(turnId: string, at: number): LiveTurn {
    this.live.turn ??= { turn_id: turnId, state: 'assistant_streaming', started_at: at };
    return this.live.turn;
  }

  private refOf(callId: string): number {
    let ref = this.refs.get(callId);
    if (ref === undefined) {
      ref = this.nextRef++;
      this.refs.set(callId, ref);
    }
    return ref;
  }

  private announceCall(callId: string, functionId: string, args: JsonValue, held = false): void {
    this.flushBlock();
    if (this.announced.has(callId)) return;
    this.announced.add(callId);
    const ref = this.refOf(callId);
    this.expandables.set(ref, { title: `${functionId} #${ref}`, text: `arguments:\n${pretty(args)}` });
    this.add({ kind: 'call', ref, function_id: functionId, args, ...(held ? { held } : {}) });
  }

  private endCall(event: Extract<AgentEvent, { type: 'function_execution_end' }>): void {
    const args = this.live.running.find((r) => r.function_call_id === event.function_call_id);
    if (!args) this.announceCall(event.function_call_id, event.function_id, {});
    this.live.running = this.live.running.filter((r) => r.function_call_id !== event.function_call_id);
    const ref = this.refOf(event.function_call_id);
    const text = typeof event.result === 'string' ? event.result : pretty(event.result ?? null);
    const known = this.expandables.get(ref);
    this.expandables.set(ref, {
      title: `${event.function_id} #${ref}`,
      text: `${known ? `${known.text}\n\n` : ''}${event.is_error ? 'error' : 'result'}:\n${text}`,
    });
    this.add({
      kind: 'result',
      ref,
      function_id: event.function_id,
      text,
      is_error: event.is_error,
      duration_ms: event.duration_ms,
    });
  }

  private resolved(callId: string, decision: string, reason?: string): void {
    const held = this.live.approvals.find((a) => a.function_call_id === callId);
    this.live.approvals = this.live.approvals.filter((a) => a.function_call_id !== callId);
    this.add({
      kind: 'decision',
      ref: this.refOf(callId),
      function_id: held?.function_id ?? '',
      decision,
      ...(reason ? { reason } : {}),
    });
  }

  private completeTurn(event: Extract<AgentEvent, { type: 'turn_completed' }>): void {
    this.flushBlock();
    const started = this.live.turn?.turn_id === event.turn_id ? this.live.turn.started_at : undefined;
    this.live = { text: '', preparingCall: false, running: [], approvals: [] };
    this.add({
      kind: 'turn_end',
      status: event.status,
      usage: event.usage,
      ...(event.cost_usd !== undefined ? { cost_usd: event.cost_usd } : {}),
      ...(event.reason ? { reason: event.reason } : {}),
      ...(event.error ? { error: event.error.message } : {}),
      ...(started !== undefined ? { duration_ms: Math.max(0, event.timestamp - started) } : {}),
    });
  }

  // --- streaming blocks --------------------------------------------------------------------

  private delta(kind: OpenBlock['kind'], index: number, delta: string): void {
    if (!this.block || this.block.index !== index || this.block.kind !== kind) {
      this.flushBlock(undefined, true);
      if (index > this.expectIndex) this.deferring = true;
      this.expectIndex = Math.max(this.expectIndex, index + 1);
      this.block = { kind, index, received: '', pending: '', committed: false, deferred: this.deferring };
    }
    const block = this.block;
    block.received += delta;
    if (block.deferred && kind === 'text' && block.received.length > DEFER_MAX_CHARS) {
      // Too long to hold: stream it from here on, out of order rather than off screen.
      block.deferred = false;
      this.deferring = false;
      block.pending = block.received.slice(0, -delta.length);
    }
    if (block.deferred) {
      if (kind === 'text') this.live.text = block.received;
      else if (kind === 'thinking') this.live.thinking = { chars: block.received.length };
      else this.live.preparingCall = true;
      return;
    }
    this.streamedIndexes.add(index);
    if (kind === 'text') {
      block.pending += delta;
      const { complete, rest } = splitComplete(block.pending);
      if (complete.trim()) this.add({ kind: 'markdown', text: complete });
      if (complete) block.pending = rest;
      this.live.text = block.pending;
    } else if (kind === 'thinking') {
      this.live.thinking = { chars: block.received.length };
    } else {
      this.live.preparingCall = true;
    }
  }

  /**
   * Commit what the open block still holds. A held-back block stays uncommitted when
   * `keepDeferred` (the final message will show it in its place); else what it received is shown.
   */
  private flushBlock(finalText?: string, keepDeferred = false): void {
    const block = this.block;
    this.block = undefined;
    this.live.text = '';
    this.live.preparingCall = false;
    if (!block || block.committed) return;
    if (block.deferred) {
      if (keepDeferred) return;
      block.pending = block.received;
    }
    block.committed = true;
    if (block.kind === 'text') {
      // The final message is authoritative: add what the deltas missed at the end, if anything.
      const missing = finalText?.startsWith(block.received) ? finalText.slice(block.received.length) : '';
      const text = block.pending + missing;
      if (text.trim()) this.add({ kind: 'markdown', text });
    } else if (block.kind === 'thinking') {
      this.addThinking(finalText ?? block.received);
    }
  }

  private addThinking(text: string): void {
    this.live.thinking = undefined;
    if (!text.trim()) return;
    const ref = this.nextRef++;
    this.expandables.set(ref, { title: `thinking #${ref}`, text });
    this.add({ kind: 'thinking', ref, chars: text.length });
  }

  private completeMessage(message: AssistantMessage): void {
    // Held-back blocks are shown from the final message, each in its place.
    const open = this.block?.deferred ? undefined : this.block;
    if (!open) this.flushBlock(undefined, true);
    message.content.forEach((block, index) => {
      const isOpen = open !== undefined && open.index === index && !open.committed;
      if (block.type === 'text') {
        if (isOpen && open.kind === 'text') this.flushBlock(block.text);
        else if (!this.seenIndex(index) && block.text.trim()) this.add({ kind: 'markdown', text: block.text });
        this.addSources(block.citations);
      } else if (block.type === 'thinking') {
        if (block.redacted) return;
        if (isOpen && open.kind === 'thinking') this.flushBlock(block.thinking);
        else if (!this.seenIndex(index)) this.addThinking(block.thinking);
      } else if (block.type === 'server_tool_use') this.vendorCall(block, message.provider);
      else if (block.type === 'server_tool_result') this.vendorResult(block);
    });
    this.flushBlock();
    this.streamedIndexes.clear();
    this.expectIndex = 0;
    this.deferring = false;
    this.live.thinking = undefined;
    this.stopNotice(message);
  }

  /** Why a reply stopped, when a person should know: it failed, or the model refused. */
  private stopNotice(message: AssistantMessage): void {
    if (message.stop_reason === 'error' && message.error_message) this.notice(message.error_message, 'error');
    else if (message.stop_reason === 'refusal') this.notice(refusalText(message.stop_details), 'warn');
  }

  // --- what vendors run and cite -------------------------------------------------------------

  private vendorCall(block: ServerToolUseBlock, provider: string): void {
    this.flushBlock(undefined, true);
    if (this.vendorCalls.has(block.id)) return;
    const ref = this.nextRef++;
    this.vendorCalls.set(block.id, { ref, name: block.name });
    this.expandables.set(ref, {
      title: `${block.name} #${ref} (run by ${provider})`,
      text: `input:\n${pretty(block.input)}`,
    });
    this.add({ kind: 'vendor_call', ref, name: block.name, input: block.input, provider });
  }

  private vendorResult(block: ServerToolResultBlock): void {
    const call = this.vendorCalls.get(block.tool_use_id);
    const ref = call?.ref ?? this.nextRef++;
    const name = call?.name ?? block.result_type.replace(/_tool_result$/, '');
    const known = this.expandables.get(ref);
    this.expandables.set(ref, {
      title: known?.title ?? `${name} #${ref}`,
      text: `${known ? `${known.text}\n\n` : ''}${block.result_type}:\n${pretty(withoutEncrypted(block.content))}`,
    });
    this.add({ kind: 'vendor_result', ref, name, ...summarizeServerResult(block) });
  }

  private addSources(citations: Citation[] | undefined): void {
    if (!citations?.length) return;
    this.add({ kind: 'sources', lines: distinctSources(citations).map((cite, i) => sourceLine(cite, i + 1)) });
  }

  private seenIndex(index: number): boolean {
    return this.streamedIndexes.has(index);
  }

  // --- a resumed session -------------------------------------------------------------------

  /** A stored conversation (the active path), as items. */
  history(messages: Array<{ entry_id: string; message: Message }>, compactionEntryId: string | null = null): void {
    for (const { entry_id, message } of messages) {
      if (entry_id === compactionEntryId) {
        this.notice('earlier conversation compacted into a summary (/expand shows it)');
        const ref = this.nextRef++;
        this.expandables.set(ref, { title: `summary #${ref}`, text: userText(message) });
        continue;
      }
      if (message.role === 'user') this.add({ kind: 'user', text: userText(message) });
      else if (message.role === 'assistant') {
        for (const block of message.content) {
          if (block.type === 'thinking' && !block.redacted) this.addThinking(block.thinking);
          else if (block.type === 'text') {
            if (block.text.trim()) this.add({ kind: 'markdown', text: block.text });
            this.addSources(block.citations);
          } else if (block.type === 'function_call') {
            const { function_id, args } = unwrapCall(block.name, block.arguments);
            this.announceCall(block.id, function_id, args);
          } else if (block.type === 'server_tool_use') this.vendorCall(block, message.provider);
          else if (block.type === 'server_tool_result') this.vendorResult(block);
        }
        if (message.stop_reason === 'aborted') this.notice('(stopped here: the turn was aborted)', 'warn');
        else if (message.stop_reason === 'error') this.notice(message.error_message ?? 'the model failed', 'error');
        else this.stopNotice(message);
      } else {
        const text = message.content.map((c) => (c.type === 'text' ? c.text : `[${c.mime_type}]`)).join('\n');
        const ref = this.refOf(message.function_call_id);
        const known = this.expandables.get(ref);
        this.expandables.set(ref, {
          title: `${message.function_id} #${ref}`,
          text: `${known ? `${known.text}\n\n` : ''}${message.is_error ? 'error' : 'result'}:\n${text}`,
        });
        this.add({ kind: 'result', ref, function_id: message.function_id, text, is_error: message.is_error });
      }
    }
  }
}

/** `agent_trigger {function_id, payload}` is how the model calls any bus function; show the function. */
function unwrapCall(name: string, args: JsonObject): { function_id: string; args: JsonValue } {
  if (name === 'agent_trigger' && typeof args.function_id === 'string')
    return { function_id: args.function_id, args: (args.payload ?? {}) as JsonValue };
  return { function_id: name, args };
}

function userText(message: Message): string {
  if (message.role !== 'user') return '';
  return typeof message.content === 'string'
    ? message.content
    : message.content.map((b) => (b.type === 'text' ? b.text : '[image]')).join('');
}

/** Vendor payloads carry encrypted blobs (search hits' `encrypted_content`) that mean nothing to a person. */
function withoutEncrypted(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutEncrypted);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k.startsWith('encrypted_') ? '[encrypted]' : withoutEncrypted(v)]),
  );
}

function pretty(value: unknown): string {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2) ?? String(value);
}
