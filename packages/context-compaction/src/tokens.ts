import type { Message, ToolSpec } from '@iii-harness/types';
import type { TokenizerRule } from './config.js';

/**
 * Counting tokens without the vendor. OpenAI-family models get their real BPE encoding
 * (gpt-tokenizer, pure JavaScript, loaded on first use); every other model gets a heuristic
 * calibrated against o200k on this repository's code, docs and JSON tool output: it counts
 * 1.1-1.4 times what o200k counts (README, "How tokens are counted"), erring high on purpose,
 * since the other vendors' tokenizers split finer than o200k.
 */

export type Encoding = TokenizerRule['encoding'];

export interface TokenCounter {
  readonly encoding: Encoding;
  text(text: string): number;
}

/** Role markers and separators around each message, as the chat formats add them. */
const MESSAGE_OVERHEAD = 4;
/** The reply's priming tokens. */
const REQUEST_OVERHEAD = 3;
/** A function call's or result's framing (ids, names, the JSON wrapper). */
const CALL_OVERHEAD = 8;
/** An image, at the size vendors bill a large one (Anthropic ~1,600 for 1092×1092, OpenAI up to ~1,100). */
const IMAGE_TOKENS = 1_600;

type Encoder = (text: string) => number;
const loaded = new Map<Encoding, Promise<Encoder>>();

/** Text is counted as text: a special token's spelling in a result is not a special token. */
const asText = { disallowedSpecial: new Set<string>() };

async function loadEncoder(encoding: Exclude<Encoding, 'estimate'>): Promise<Encoder> {
  const module =
    encoding === 'o200k_base'
      ? await import('gpt-tokenizer/encoding/o200k_base')
      : await import('gpt-tokenizer/encoding/cl100k_base');
  return (text) => module.countTokens(text, asText);
}

/** The counter for a model: the first tokenizer rule that matches, else the heuristic. */
export async function counterFor(rules: TokenizerRule[], provider: string, model: string): Promise<TokenCounter> {
  const rule = rules.find(
    (r) =>
      (r.provider === undefined || r.provider === provider) &&
      (r.model_pattern === undefined || new RegExp(r.model_pattern).test(model)),
  );
  const encoding = rule?.encoding ?? 'estimate';
  if (encoding === 'estimate') return { encoding, text: estimateTokens };
  let encoder = loaded.get(encoding);
  if (!encoder) {
    encoder = loadEncoder(encoding);
    loaded.set(encoding, encoder);
    encoder.catch(() => loaded.delete(encoding));
  }
  const count = await encoder;
  return { encoding, text: (text) => (text ? count(text) : 0) };
}

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/**
 * The heuristic, one pass over the characters: a run of letters costs one token per 6 letters
 * (rounded up), a run of digits one per 3, whitespace before a digit one, a space run with a
 * line break half a token, other whitespace 0.15, each ASCII punctuation mark 0.8, each other
 * character 1.
 */
export function estimateTokens(text: string): number {
  let total = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isLetter(c)) {
      const start = i;
      while (i < n && isLetter(text.charCodeAt(i))) i++;
      total += Math.ceil((i - start) / 6);
    } else if (isDigit(c)) {
      const start = i;
      while (i < n && isDigit(text.charCodeAt(i))) i++;
      total += Math.ceil((i - start) / 3);
    } else if (isSpace(c)) {
      const start = i;
      let lineBreak = false;
      while (i < n && isSpace(text.charCodeAt(i))) {
        if (text.charCodeAt(i) === 10) lineBreak = true;
        i++;
      }
      // A space before a number is a token of its own in BPE vocabularies; before a word it merges.
      total += i < n && isDigit(text.charCodeAt(i)) ? 1 : lineBreak && i - start > 1 ? 0.5 : 0.15;
    } else {
      total += c < 128 ? 0.8 : 1;
      i++;
    }
  }
  return Math.ceil(total);
}

/** The text a message carries to the model, as one string per part (what the counters read). */
export function messageParts(message: Message): { texts: string[]; images: number; calls: number } {
  const texts: string[] = [];
  let images = 0;
  let calls = 0;
  if (message.role === 'user') {
    if (typeof message.content === 'string') texts.push(message.content);
    else
      for (const block of message.content)
        if (block.type === 'text') texts.push(block.text);
        else images++;
  } else if (message.role === 'assistant') {
    for (const block of message.content) {
      if (block.type === 'text') texts.push(block.text);
      else if (block.type === 'thinking') {
        texts.push(block.thinking);
        // Redacted reasoning travels as its opaque payload.
        if (block.redacted && block.signature) texts.push(block.signature);
      } else if (block.type === 'server_tool_use') texts.push(block.name, JSON.stringify(block.input));
      else if (block.type === 'server_tool_result') texts.push(JSON.stringify(block.content));
      else {
        calls++;
        texts.push(block.name, JSON.stringify(block.arguments));
      }
    }
  } else {
    calls++;
    for (const block of message.content)
      if (block.type === 'text') texts.push(block.text);
      else images++;
  }
  return { texts, images, calls };
}

export function messageTokens(counter: TokenCounter, message: Message): number {
  const { texts, images, calls } = messageParts(message);
  let total = MESSAGE_OVERHEAD + images * IMAGE_TOKENS + calls * CALL_OVERHEAD;
  for (const text of texts) total += counter.text(text);
  return total;
}

/** What a request adds besides its messages: system prompt, tool definitions, priming. */
export function requestOverhead(counter: TokenCounter, system?: string, tools?: ToolSpec[]): number {
  let total = REQUEST_OVERHEAD;
  if (system) total += MESSAGE_OVERHEAD + counter.text(system);
  for (const tool of tools ?? [])
    total += CALL_OVERHEAD + counter.text(`${tool.name}\n${tool.description}\n${JSON.stringify(tool.parameters)}`);
  return total;
}
