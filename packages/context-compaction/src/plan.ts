import type { Handler } from '@iii-harness/runtime';
import type { CompactionPlan, contracts, ToolSpec } from '@iii-harness/types';
import type { Config } from './config.js';
import { counterFor, requestOverhead, type TokenCounter } from './tokens.js';
import type { SessionView } from './view.js';
import { loadView } from './view.js';
import { type ModelWindow, modelWindow } from './window.js';

export interface Projection {
  projected: number;
  basis: 'usage' | 'estimate';
  anchor_entry_id: string | null;
  /** The estimated part of `projected`. */
  estimated: number;
  /** Everything estimated, whatever the basis: what compaction stages compare against. */
  estimate_total: number;
}

/** The sum of what the request adds besides messages, the summary message and the messages. */
export function estimateView(view: SessionView, overhead: number): number {
  let total = overhead + (view.summary?.tokens ?? 0);
  for (const m of view.messages) total += m.tokens;
  return total;
}

/**
 * The next request's size: the input the provider reported for the latest call made on the
 * current context (after the latest compaction), plus estimates of that call's reply and of what
 * was appended since. Without such a call, everything is estimated.
 */
export function project(
  view: SessionView,
  counter: TokenCounter,
  model: { provider: string; model: string },
  system?: string,
  tools?: ToolSpec[],
): Projection {
  const estimate_total = estimateView(view, requestOverhead(counter, system, tools));
  const anchor = findAnchor(view, model);
  if (!anchor)
    return {
      projected: estimate_total,
      basis: 'estimate',
      anchor_entry_id: null,
      estimated: estimate_total,
      estimate_total,
    };
  let estimated = 0;
  for (const m of view.messages.slice(anchor.index)) estimated += m.tokens;
  return {
    projected: anchor.reported + estimated,
    basis: 'usage',
    anchor_entry_id: view.messages[anchor.index]!.entry_id,
    estimated,
    estimate_total,
  };
}

/**
 * The latest assistant message with reported input that measured the current context: after the
 * last message the latest compaction saw (for a compaction this worker did not write: younger
 * than the compaction entry), and from the same model (another model counts other tokens).
 */
function findAnchor(
  view: SessionView,
  model: { provider: string; model: string },
): { index: number; reported: number } | null {
  const lastSeen = view.details?.last_message_id;
  const floor = lastSeen ? view.messages.findIndex((m) => m.entry_id === lastSeen) : -1;
  const byTime = view.compaction !== null && floor < 0;
  for (let i = view.messages.length - 1; i > floor; i--) {
    const { message } = view.messages[i]!;
    if (message.role !== 'assistant' || message.provider !== model.provider || message.model !== model.model) continue;
    if (byTime && (message.timestamp === undefined || message.timestamp < view.compaction!.created_at)) continue;
    const { input_tokens, cache_read_tokens, cache_write_tokens } = message.usage;
    const reported = input_tokens + cache_read_tokens + cache_write_tokens;
    if (reported > 0) return { index: i, reported };
  }
  return null;
}

export function planOf(
  input: { session_id: string; provider: string; model: string },
  window: ModelWindow,
  counter: TokenCounter,
  view: SessionView,
  projection: Projection,
): CompactionPlan {
  return {
    session_id: input.session_id,
    provider: input.provider,
    model: input.model,
    context_window: window.context_window,
    reserve_output_tokens: window.reserve_output_tokens,
    safety_margin_tokens: window.safety_margin_tokens,
    usable_tokens: window.usable_tokens,
    projected_tokens: projection.projected,
    basis: projection.basis,
    anchor_entry_id: projection.anchor_entry_id,
    estimated_tokens: projection.estimated,
    tokenizer: counter.encoding,
    messages: view.messages.length + (view.summary ? 1 : 0),
    compaction_entry_id: view.compaction?.id ?? null,
    needs_compaction: projection.projected > window.usable_tokens,
  };
}

/** Everything a compaction decision starts from. */
export interface Measured {
  window: ModelWindow;
  counter: TokenCounter;
  view: SessionView;
  projection: Projection;
  overhead: number;
}

export async function measure(
  deps: { config: Config },
  bus: Parameters<typeof loadView>[0],
  input: {
    session_id: string;
    provider: string;
    model: string;
    system?: string;
    tools?: ToolSpec[];
    reserve_output_tokens?: number;
  },
): Promise<Measured> {
  const window = await modelWindow(bus, deps.config, input.provider, input.model, input.reserve_output_tokens);
  const counter = await counterFor(deps.config.tokenizers, input.provider, input.model);
  const view = await loadView(bus, input.session_id, counter);
  return {
    window,
    counter,
    view,
    projection: project(view, counter, input, input.system, input.tools),
    overhead: requestOverhead(counter, input.system, input.tools),
  };
}

export const plan = (deps: { config: Config }) =>
  (async (input, ctx) => {
    const m = await measure(deps, ctx.bus, input);
    return planOf(input, m.window, m.counter, m.view, m.projection);
  }) satisfies Handler<typeof contracts.compaction.plan>;
