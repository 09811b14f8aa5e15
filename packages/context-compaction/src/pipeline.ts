import type { CompactionStage, Message } from '@iii-harness/types';
import type { Config } from './config.js';
import { chooseCut, recentFrom } from './cuts.js';
import { emptyLedger, type Fact, type Ledger, type SummarySections } from './details.js';
import { charsForTokens, headTail } from './head-tail.js';
import { factsOf, factsOfPlainText, mergeLedger } from './ledger.js';
import type { Measured } from './plan.js';
import { mergeSections, renderSummary } from './summary.js';
import { messageTokens } from './tokens.js';
import type { ViewMessage } from './view.js';

/**
 * The pipeline, cheapest first: cap single oversized function results (head and tail kept),
 * prune old function results, summarise. Nothing here writes: the result is a draft of the next
 * compaction entry, which the caller checks ("did it help?") before appending. Cap and prune
 * never touch the transcript: they are replacements the entry makes the model see.
 */

/** How `session::messages` frames a summary (counted, not sent, here). */
const SUMMARY_FRAME = 'The earlier part of this conversation was compacted. Summary:\n\n';
const PRUNED = '[output of';
const CAP_NOTE = 'cut by context compaction; ids, paths, URLs and numbers from the cut part are in the fact ledger';

export interface Draft {
  stage: CompactionStage;
  sections: SummarySections | null;
  ledger: Ledger;
  first_kept_entry_id: string;
  /** Entry id → what the model sees instead of that function result. */
  replaced: Record<string, string>;
  summary_text: string;
  tokens_after: number;
  summariser_calls: number;
  /** The entry the summary runs through (its span ends there), for the pending summary. */
  summarised_through: string | null;
}

export type Mode = 'auto' | 'manual' | 'prune_only';

export interface SummaryRequest {
  previous: SummarySections | null;
  span: ViewMessage[];
}

export interface PipelineInput {
  measured: Measured;
  config: Config;
  mode: Mode;
  /** Summarise a span into the previous sections (the caller owns the provider calls and the pending summary). */
  summarise(request: SummaryRequest): Promise<{ sections: SummarySections; calls: number }>;
}

export type PipelineResult = { draft: Draft; fits: boolean } | { draft: null; reason: string };

const textOf = (message: Message) =>
  message.role === 'user'
    ? typeof message.content === 'string'
      ? message.content
      : ''
    : message.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');

const fnOf = (message: Message) => (message.role === 'function_result' ? message.function_id : '');

export async function runPipeline(input: PipelineInput): Promise<PipelineResult> {
  const { measured, config, mode } = input;
  const { window, counter, view, overhead } = measured;
  const usable = window.usable_tokens;
  const target = Math.floor(usable * config.fill_after_ratio);
  const tailBudget = Math.min(config.tail_max_tokens, Math.floor(usable * config.tail_ratio));
  const ledgerBounds = { maxFacts: config.ledger_max_facts, maxTokens: Math.floor(usable * config.ledger_ratio) };
  const perMessage = config.ledger_facts_per_message;
  const messages = view.messages;
  if (!messages.length) return { draft: null, reason: 'the session has no messages' };

  const previousSections =
    view.details?.sections ?? (view.compaction?.summary ? mergeSections(null, view.compaction.summary) : null);
  const previousLedger = view.details?.ledger ?? emptyLedger();
  const windowIds = new Set(messages.map((m) => m.entry_id));
  const previousReplaced = Object.fromEntries(
    Object.entries(view.compaction?.replaced_results ?? {}).filter(([id]) => windowIds.has(id)),
  );
  const replacedTokens = (m: ViewMessage, text: string) =>
    messageTokens(counter, { ...m.message, content: [{ type: 'text', text }] } as Message);

  const draftOf = (
    stage: CompactionStage,
    sections: SummarySections | null,
    fresh: Fact[],
    firstKept: number,
    replaced: Record<string, string>,
    calls = 0,
    through: string | null = null,
  ): Draft => {
    const ledger = mergeLedger(previousLedger, fresh, ledgerBounds, counter);
    const summary_text = renderSummary(sections, ledger);
    let tokens =
      overhead + (summary_text ? messageTokens(counter, { role: 'user', content: SUMMARY_FRAME + summary_text }) : 0);
    for (const m of messages.slice(firstKept))
      tokens += replaced[m.entry_id] !== undefined ? replacedTokens(m, replaced[m.entry_id]!) : m.tokens;
    return {
      stage,
      sections,
      ledger,
      first_kept_entry_id:
        firstKept === 0 && view.compaction ? view.compaction.first_kept_entry_id : messages[firstKept]!.entry_id,
      replaced: Object.fromEntries(
        Object.entries(replaced).filter(([id]) => messages.slice(firstKept).some((m) => m.entry_id === id)),
      ),
      summary_text,
      tokens_after: tokens,
      summariser_calls: calls,
      summarised_through: through,
    };
  };

  // Stage 1: cap single results that take more than their share of the window.
  const caps: Record<string, string> = {};
  const capFacts = new Map<string, Fact[]>();
  if (!window.signed_reasoning) {
    const capAt = Math.floor(usable * config.cap_result_ratio);
    const keep = Math.floor(usable * config.capped_result_ratio);
    for (const m of messages) {
      if (m.message.role !== 'function_result' || m.tokens <= capAt) continue;
      const text = textOf(m.message);
      const capped = headTail(text, charsForTokens(text, m.tokens, keep), CAP_NOTE);
      if (!capped.cutChars) continue;
      caps[m.entry_id] = capped.text;
      capFacts.set(m.entry_id, factsOfPlainText(capped.cut, fnOf(m.message), perMessage));
    }
  }
  const allCapFacts = () => [...capFacts.values()].flat();
  let best: Draft | null = null;
  if (Object.keys(caps).length) {
    best = draftOf('cap', previousSections, allCapFacts(), 0, { ...previousReplaced, ...caps });
    if (mode !== 'manual' && best.tokens_after <= target) return { draft: best, fits: true };
  }

  // Stage 2: prune function results older than the protected recent part.
  if (!window.signed_reasoning && mode !== 'manual') {
    const protectFrom = recentFrom(messages, tailBudget);
    const prunes: Record<string, string> = {};
    const pruneFacts: Fact[] = [];
    for (const m of messages.slice(0, protectFrom)) {
      if (m.message.role !== 'function_result' || caps[m.entry_id] !== undefined) continue;
      if (m.tokens < config.prune_min_tokens || previousReplaced[m.entry_id]?.startsWith(PRUNED)) continue;
      prunes[m.entry_id] =
        `${PRUNED} ${m.message.function_id} pruned by context compaction (${m.tokens} tokens); ids, paths, URLs and numbers from it are in the fact ledger]`;
      pruneFacts.push(...factsOf(m.message, perMessage));
    }
    if (Object.keys(prunes).length) {
      const pruned = draftOf('prune', previousSections, [...allCapFacts(), ...pruneFacts], 0, {
        ...previousReplaced,
        ...caps,
        ...prunes,
      });
      if (!best || pruned.tokens_after < best.tokens_after) best = pruned;
      if (pruned.tokens_after <= target) return { draft: pruned, fits: true };
    }
  }
  if (mode === 'prune_only')
    return best
      ? { draft: best, fits: best.tokens_after <= usable }
      : { draft: null, reason: 'no function result to cap or prune' };

  // Stage 3: summarise everything before a tail of recent whole exchanges.
  const effective = messages.map((m) => ({
    message: m.message,
    tokens: caps[m.entry_id] !== undefined ? replacedTokens(m, caps[m.entry_id]!) : m.tokens,
  }));
  const cut = chooseCut(effective, tailBudget, window.signed_reasoning);
  if (cut === null)
    return best
      ? { draft: best, fits: best.tokens_after <= usable }
      : { draft: null, reason: 'nothing older than the kept tail' };
  const head = messages.slice(0, cut);
  const headFacts = head.flatMap((m) => factsOf(m.message, perMessage));
  const tailCapFacts = messages.slice(cut).flatMap((m) => capFacts.get(m.entry_id) ?? []);
  const { sections, calls } = await input.summarise({ previous: previousSections, span: head });
  const draft = draftOf(
    'summary',
    sections,
    [...headFacts, ...tailCapFacts],
    cut,
    { ...previousReplaced, ...caps },
    calls,
    head[head.length - 1]!.entry_id,
  );
  return { draft, fits: draft.tokens_after <= usable };
}

/**
 * Every count scaled up: after the provider said "too long" for a request the estimate said
 * fits, the estimate was low by at least that much for this session's content.
 */
export function scaleMeasured(m: Measured, scale: number): Measured {
  if (scale <= 1) return m;
  const up = (n: number) => Math.ceil(n * scale);
  const scaled = (v: ViewMessage): ViewMessage => ({ ...v, tokens: up(v.tokens) });
  return {
    ...m,
    counter: { encoding: m.counter.encoding, text: (text) => up(m.counter.text(text)) },
    view: { ...m.view, summary: m.view.summary && scaled(m.view.summary), messages: m.view.messages.map(scaled) },
    overhead: up(m.overhead),
    projection: {
      ...m.projection,
      projected: up(m.projection.projected),
      estimate_total: up(m.projection.estimate_total),
    },
  };
}
