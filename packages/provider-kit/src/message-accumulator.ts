import {
  type AssistantMessage,
  emptyUsage,
  type ProviderStreamEvent,
  type StopDetails,
  type StopReason,
  type Usage,
} from '@iii-harness/types';

type Block = AssistantMessage['content'][number];

/** How a message ended, besides its stop reason. */
export interface MessageEnding {
  raw_stop_reason?: string;
  stop_details?: StopDetails;
  error_message?: string;
}

/**
 * Builds the assistant message from the normalized events, exactly as a consumer of the channel
 * would. Providers use it for `done` and `complete`; the orchestrator can use the same rules.
 */
export class MessageAccumulator {
  private readonly blocks = new Map<number, Block>();
  private readonly toolArgs = new Map<number, string>();
  usage: Usage = emptyUsage();

  constructor(
    readonly provider: string,
    readonly model: string,
  ) {}

  apply(event: ProviderStreamEvent): void {
    switch (event.type) {
      case 'text_delta': {
        const block = this.blocks.get(event.content_index);
        if (block?.type === 'text') block.text += event.delta;
        else this.blocks.set(event.content_index, { type: 'text', text: event.delta });
        break;
      }
      case 'thinking_delta': {
        let block = this.blocks.get(event.content_index);
        if (block?.type !== 'thinking') {
          block = { type: 'thinking', thinking: '' };
          this.blocks.set(event.content_index, block);
        }
        block.thinking += event.delta;
        if (event.signature) block.signature = (block.signature ?? '') + event.signature;
        break;
      }
      case 'tool_call_start':
        this.blocks.set(event.content_index, { type: 'function_call', id: event.id, name: event.name, arguments: {} });
        this.toolArgs.set(event.content_index, '');
        break;
      case 'tool_call_delta':
        this.toolArgs.set(event.content_index, (this.toolArgs.get(event.content_index) ?? '') + event.delta);
        break;
      case 'tool_call_end': {
        const block = this.blocks.get(event.content_index);
        if (block?.type === 'function_call') block.arguments = event.arguments as typeof block.arguments;
        break;
      }
      case 'usage':
        this.usage = { ...this.usage, ...event.usage };
        break;
      case 'content_block':
        this.blocks.set(event.content_index, structuredClone(event.block));
        break;
      case 'citation': {
        let block = this.blocks.get(event.content_index);
        if (block?.type !== 'text') {
          block = { type: 'text', text: '' };
          this.blocks.set(event.content_index, block);
        }
        block.citations = [...(block.citations ?? []), event.citation];
        break;
      }
      case 'warning':
      case 'done':
      case 'error':
        break;
    }
  }

  /**
   * Flag the thinking block at `index` as encrypted reasoning (Anthropic `redacted_thinking`):
   * its opaque data travels as the signature and is replayed, never shown.
   */
  markRedacted(index: number): void {
    const block = this.blocks.get(index);
    if (block?.type === 'thinking') block.redacted = true;
  }

  /** The raw JSON text streamed so far for the tool call at `index`. */
  toolArguments(index: number): string {
    return this.toolArgs.get(index) ?? '';
  }

  hasContent(): boolean {
    return this.blocks.size > 0;
  }

  toMessage(stopReason: StopReason, extra: MessageEnding = {}): AssistantMessage {
    const content = [...this.blocks.entries()].sort(([a], [b]) => a - b).map(([, block]) => structuredClone(block));
    return {
      role: 'assistant',
      content,
      provider: this.provider,
      model: this.model,
      usage: { ...this.usage },
      stop_reason: stopReason,
      ...(extra.raw_stop_reason ? { raw_stop_reason: extra.raw_stop_reason } : {}),
      ...(extra.stop_details ? { stop_details: extra.stop_details } : {}),
      ...(extra.error_message ? { error_message: extra.error_message } : {}),
      timestamp: Date.now(),
    };
  }
}
