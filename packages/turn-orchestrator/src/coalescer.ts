import type { AgentEventInput } from '@iii-harness/runtime';
import type { ProviderStreamEvent } from '@iii-harness/types';

type Kind = 'text' | 'thinking' | 'tool_call';

interface Pending {
  kind: Kind;
  content_index: number;
  function_call_id?: string;
  delta: string;
}

/**
 * Folds provider deltas into `message_update` events: consecutive deltas of the same block are
 * joined until `windowMs` passes or `maxChars` accumulate, so a long answer costs tens of event
 * writes, not thousands. Events are written strictly in order.
 */
export class DeltaCoalescer {
  private pending?: Pending;
  private timer?: NodeJS.Timeout;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly emit: (event: AgentEventInput) => Promise<unknown>,
    private readonly windowMs: number,
    private readonly maxChars: number,
  ) {}

  push(event: ProviderStreamEvent): void {
    switch (event.type) {
      case 'text_delta':
        this.add({ kind: 'text', content_index: event.content_index, delta: event.delta });
        return;
      case 'thinking_delta':
        this.add({ kind: 'thinking', content_index: event.content_index, delta: event.delta });
        return;
      case 'tool_call_start':
        this.add(
          { kind: 'tool_call', content_index: event.content_index, function_call_id: event.id, delta: '' },
          true,
        );
        return;
      case 'tool_call_delta':
        this.add({
          kind: 'tool_call',
          content_index: event.content_index,
          function_call_id: event.id,
          delta: event.delta,
        });
        return;
      default:
        return;
    }
  }

  /** Write what is pending and wait for every write so far. */
  async flush(): Promise<void> {
    this.writePending();
    await this.chain;
  }

  private add(next: Pending, startsBlock = false): void {
    const same =
      this.pending &&
      !startsBlock &&
      this.pending.kind === next.kind &&
      this.pending.content_index === next.content_index;
    if (same) this.pending!.delta += next.delta;
    else {
      this.writePending();
      this.pending = { ...next };
      this.timer = setTimeout(() => this.writePending(), this.windowMs);
    }
    if (this.pending!.delta.length >= this.maxChars) this.writePending();
  }

  private writePending(): void {
    clearTimeout(this.timer);
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return;
    const event: AgentEventInput = {
      type: 'message_update',
      kind: pending.kind,
      content_index: pending.content_index,
      delta: pending.delta,
      ...(pending.function_call_id ? { function_call_id: pending.function_call_id } : {}),
    };
    this.chain = this.chain.then(() => this.emit(event)).catch(() => undefined);
  }
}
