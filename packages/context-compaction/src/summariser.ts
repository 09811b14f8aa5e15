import { type Bus, HarnessError, uuidv7 } from '@iii-harness/runtime';
import { contracts, type Message } from '@iii-harness/types';
import type { SummarySections } from './details.js';
import { headTail } from './head-tail.js';
import { calledFunction } from './ledger.js';
import { mergeSections, REQUIRED_HEADINGS, renderSections } from './summary.js';
import { requestOverhead, type TokenCounter } from './tokens.js';
import type { ViewMessage } from './view.js';
import type { ModelWindow } from './window.js';

/**
 * The summariser: a provider call that folds a span of the conversation into the structured
 * summary. The previous summary is always in the request, with the instruction to update it in
 * place. A span larger than the summariser's own window goes in chunks, each folded into the
 * running summary, which is handed to `onChunk` as soon as it is paid for.
 */

export interface Summariser {
  provider: string;
  model: string;
  window: ModelWindow;
  counter: TokenCounter;
  max_tokens: number;
  timeout_ms: number;
}

export const SUMMARISER_SYSTEM = [
  "You maintain the working memory of an agent session whose conversation no longer fits the model's context window.",
  'You are given the current summary and a part of the conversation that is about to leave the context.',
  'Update the summary in place: keep everything in it that is still true, move finished work from "In progress" to "Done",',
  'add what the new part adds, and never drop the goal, constraints, decisions or critical context.',
  'Record decisions with their reasons. Keep exact values that matter (names, paths, ids, numbers, error messages).',
  'A separate fact ledger lists every file, id, URL and number verbatim, so do not copy long lists into the summary.',
  'Do not call tools. Do not address the user. Answer only with the summary, in exactly these sections:',
  ...REQUIRED_HEADINGS,
].join('\n');

/** One message as the summariser reads it; each function result cut to `resultChars`. */
export function serialise(message: Message, resultChars: number): string {
  if (message.role === 'user') {
    const text =
      typeof message.content === 'string'
        ? message.content
        : message.content.map((b) => (b.type === 'text' ? b.text : '[image]')).join('\n');
    return `[user]\n${text}`;
  }
  if (message.role === 'assistant') {
    const parts: string[] = [];
    for (const block of message.content) {
      if (block.type === 'text') parts.push(block.text);
      else if (block.type === 'function_call') {
        const { fn, payload } = calledFunction(block.name, block.arguments);
        parts.push(`(calls ${fn} ${headTail(JSON.stringify(payload), resultChars, 'cut for the summary').text})`);
      }
    }
    return `[assistant]\n${parts.join('\n')}`;
  }
  const text = message.content.map((b) => (b.type === 'text' ? b.text : '[image]')).join('\n');
  const status = message.is_error ? ' (error)' : '';
  return `[result of ${message.function_id}${status}]\n${headTail(text, resultChars, 'cut for the summary').text}`;
}

interface Chunk {
  text: string;
  through_entry_id: string;
}

/** Consecutive messages packed into chunks of at most `budget` tokens; a message alone over it is cut. */
export function chunkSpan(span: ViewMessage[], counter: TokenCounter, budget: number, resultChars: number): Chunk[] {
  const chunks: Chunk[] = [];
  let parts: string[] = [];
  let used = 0;
  let through = '';
  for (const m of span) {
    let text = serialise(m.message, resultChars);
    let tokens = counter.text(text) + 2;
    if (tokens > budget) {
      text = headTail(text, Math.floor((text.length * budget) / tokens / 1.2), 'cut to fit the summariser').text;
      tokens = counter.text(text) + 2;
    }
    if (parts.length && used + tokens > budget) {
      chunks.push({ text: parts.join('\n\n'), through_entry_id: through });
      parts = [];
      used = 0;
    }
    parts.push(text);
    used += tokens;
    through = m.entry_id;
  }
  if (parts.length) chunks.push({ text: parts.join('\n\n'), through_entry_id: through });
  return chunks;
}

function requestText(previous: SummarySections | null, chunk: string, part: string, instructions?: string): string {
  return [
    '<previous-summary>',
    previous ? renderSections(previous) : '(none yet: this is the first summary of this session)',
    '</previous-summary>',
    '',
    `<conversation-to-fold-in${part}>`,
    chunk,
    '</conversation-to-fold-in>',
    ...(instructions ? ['', '<focus>', instructions, '</focus>'] : []),
    '',
    'Update the previous summary with this part of the conversation and answer with the complete updated summary.',
  ].join('\n');
}

/** Room for conversation in one call: the summariser's usable window less everything else in the request. */
function chunkBudget(s: Summariser, previous: SummarySections | null, instructions?: string): number {
  const fixed =
    requestOverhead(s.counter, SUMMARISER_SYSTEM) +
    s.counter.text(requestText(previous, '', '', instructions)) +
    // The running summary grows as chunks fold in: leave it room to.
    s.max_tokens;
  const budget = s.window.usable_tokens - fixed;
  if (budget < 512)
    throw new HarnessError(
      'invalid_payload',
      `the summariser ${s.provider}/${s.model} has a window of ${s.window.context_window} tokens: too small to summarise with a ${s.max_tokens}-token summary`,
      { reason: 'summariser_window_too_small' },
    );
  return budget;
}

export async function summarise(
  bus: Bus,
  s: Summariser,
  input: {
    session_id: string;
    previous: SummarySections | null;
    span: ViewMessage[];
    instructions?: string;
    result_chars: number;
    onChunk(sections: SummarySections, throughEntryId: string): Promise<void>;
  },
): Promise<{ sections: SummarySections; calls: number }> {
  let sections = input.previous;
  const chunks = chunkSpan(input.span, s.counter, chunkBudget(s, sections, input.instructions), input.result_chars);
  let calls = 0;
  for (const [index, chunk] of chunks.entries()) {
    const part = chunks.length > 1 ? ` part="${index + 1} of ${chunks.length}"` : '';
    const reply = await complete(bus, s, input.session_id, requestText(sections, chunk.text, part, input.instructions));
    calls++;
    sections = mergeSections(sections, reply);
    await input.onChunk(sections, chunk.through_entry_id);
  }
  if (!sections) throw new HarnessError('internal', 'nothing to summarise');
  return { sections, calls };
}

async function complete(bus: Bus, s: Summariser, sessionId: string, text: string): Promise<string> {
  const { message } = await bus.call(
    contracts.provider.complete(s.provider),
    {
      request_id: `compaction:${sessionId}:${uuidv7()}`.slice(0, 200),
      model: s.model,
      system: SUMMARISER_SYSTEM,
      messages: [{ role: 'user', content: text }],
      max_tokens: s.max_tokens,
    },
    { timeoutMs: s.timeout_ms },
  );
  if (message.stop_reason === 'error' || message.stop_reason === 'aborted')
    throw new HarnessError('provider_error', `the summariser failed: ${message.error_message ?? message.stop_reason}`);
  const reply = message.content
    .map((b) => (b.type === 'text' ? b.text : ''))
    .join('')
    .trim();
  if (!reply) throw new HarnessError('provider_error', 'the summariser answered with no text');
  return reply;
}
