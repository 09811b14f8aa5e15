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
 * Folds provider deltas into `message_update` events, one per content block and time window:
 * deltas arriving within `windowMs` are collected (consecutive deltas of a block joined; a block
 * reaching `maxChars` ends the window early) and written together when the window closes, so a
 * long answer costs tens of event writes, not thousands. A message that arrives whole within its
 * first window writes no update at all: its `message_complete` follows at once and says it all.
 * Events are written strictly in order.
 */
export class DeltaCoalescer {
  private window: Pending[] = [];
  private timer?: NodeJS.Timeout;
  private wroteAny = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly emit: (event: AgentEventInput) => Promise<unknown>,
    private readonly windowMs: number,
    private readonly maxChars: number,
  ) {}

  push(event: ProviderStreamEvent): void {
    if (event.type === 'text_delta' || event.type === 'thinking_delta')
      this.add({
        kind: event.type === 'text_delta' ? 'text' : 'thinking',
        content_index: event.content_index,
        delta: event.delta,
      });
    else if (event.type === 'tool_call_start' || event.type === 'tool_call_delta')
      this.add(
        {
          kind: 'tool_call',
          content_index: event.content_index,
          function_call_id: event.id,
          delta: event.type === 'tool_call_delta' ? event.delta : '',
        },
        event.type === 'tool_call_start',
      );
  }

  /** The stream ended complete: write what is pending — unless nothing was written yet — and wait for the writes. */
  async finish(): Promise<void> {
    if (this.wroteAny) this.writeWindow();
    else this.discardWindow();
    await this.chain;
  }

  /** Write what is pending and wait for every write so far (a stream that ended early). */
  async flush(): Promise<void> {
    this.writeWindow();
    await this.chain;
  }

  private add(next: Pending, startsBlock = false): void {
    const last = this.window.at(-1);
    const same = last && !startsBlock && last.kind === next.kind && last.content_index === next.content_index;
    if (same) last.delta += next.delta;
    else this.window.push({ ...next });
    this.timer ??= setTimeout(() => this.writeWindow(), this.windowMs);
    if (this.window.at(-1)!.delta.length >= this.maxChars) this.writeWindow();
  }

  private discardWindow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.window = [];
  }

  private writeWindow(): void {
    const window = this.window;
    this.discardWindow();
    if (window.length === 0) return;
    this.wroteAny = true;
    for (const pending of window) {
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
}
