import type { JsonValue, Message } from '@iii-harness/types';
import type { Fact, FactKind, Ledger } from './details.js';
import type { TokenCounter } from './tokens.js';

/**
 * The fact ledger: files, function names, URLs, ids and values taken mechanically from the
 * function calls and results that leave the model's view (summarised, pruned, or cut out of a
 * capped result). No model writes it: it is carried forward verbatim, deduplicated, newest kept
 * when it must be bounded, and sent after the summary.
 */

const MAX_FACT_CHARS = 300;
const MAX_KEY_VALUE_CHARS = 120;
const WRITE_VERB =
  /(write|edit|create|patch|save|put|append|delete|remove|rm|move|mv|rename|mkdir|apply|replace|update|insert|upload|commit)/i;

const FILE_KEY = /(^|_|-)(path|paths|file|files|filename|filepath|dir|directory|cwd|src|dest|destination|target)$/i;
const URL_KEY = /(url|uri|href|link|endpoint)s?$/i;
const ID_KEY = /((^|_|-)(id|ids|uuid|ref|sha|hash|key|number|no|code|slug)$)|[a-z]Id$/;

const URL_TEXT = /\bhttps?:\/\/[^\s"'`<>()[\]{}]+/g;
const PATH_TEXT =
  /(?<![\w:/.-])(?:~|\.{1,2})?\/[\w.@+-]+(?:\/[\w.@+-]+)+\/?|(?<![\w/.-])[\w.-]+(?:\/[\w.@+-]+)+\.[A-Za-z0-9]{1,8}\b/g;
const UUID_TEXT = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const PREFIXED_ID_TEXT = /\b[A-Za-z]{2,12}[-_#](?=(?:[A-Za-z]*\d){3})[A-Za-z0-9]{3,40}\b/g;
const HASH_TEXT = /\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{7,64}\b/g;
const ISSUE_TEXT = /(?<![\w&])#\d{2,}\b/g;
const KEY_VALUE_TEXT =
  /\b([A-Za-z_][\w.-]{0,40})\s*[:=]\s*([$€£]?-?\d[\d,]*(?:\.\d+)?\s?(?:%|ms|s|KB|MB|GB|TB|bytes|tokens|USD|EUR)?)(?![\w.])/g;
const NUMBER_TEXT =
  /(?<![\w.])(?:[$€£]\s?\d[\d,]*(?:\.\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+(?!\.\d)|\d{4,})(?![\w.]|\.\d)/g;

class FactSet {
  readonly facts: Fact[] = [];
  private readonly seen = new Set<string>();
  constructor(private readonly limit: number) {}
  get full(): boolean {
    return this.facts.length >= this.limit;
  }
  add(kind: FactKind, value: string): void {
    const v = value.trim();
    if (!v || v.length > MAX_FACT_CHARS || this.full) return;
    const key = `${kind}\u0000${v}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.facts.push([kind, v]);
  }
}

/** The function a call invokes: `agent_trigger` carries the bus function in its arguments. */
export function calledFunction(name: string, args: Record<string, JsonValue>): { fn: string; payload: JsonValue } {
  if (name === 'agent_trigger' && typeof args.function_id === 'string')
    return { fn: args.function_id, payload: args.payload ?? args };
  return { fn: name, payload: args };
}

/** Facts of one message (calls and results only; user and assistant text is the summary's job). */
export function factsOf(message: Message, perMessage: number): Fact[] {
  const set = new FactSet(perMessage);
  if (message.role === 'assistant') {
    for (const block of message.content) {
      if (block.type !== 'function_call') continue;
      const { fn, payload } = calledFunction(block.name, block.arguments);
      set.add('function', fn);
      walkJson(set, payload, fn, '');
    }
  } else if (message.role === 'function_result') {
    const text = message.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
    const json = parseJson(text);
    if (json !== undefined) walkJson(set, json, message.function_id, '');
    else factsOfText(set, text, message.function_id);
  }
  return set.facts;
}

/** Facts of a text with no structure (a log, a file's content, a cut-out part of a result). */
export function factsOfPlainText(text: string, fn: string, perMessage: number): Fact[] {
  const set = new FactSet(perMessage);
  factsOfText(set, text, fn);
  return set.facts;
}

function parseJson(text: string): JsonValue | undefined {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return undefined;
  try {
    return JSON.parse(trimmed) as JsonValue;
  } catch {
    return undefined;
  }
}

const fileKind = (fn: string): FactKind => (WRITE_VERB.test(fn) ? 'file_written' : 'file_read');

function walkJson(set: FactSet, value: JsonValue, fn: string, key: string, depth = 0): void {
  if (set.full || depth > 12 || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) walkJson(set, item, fn, key, depth + 1);
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) walkJson(set, v, fn, k, depth + 1);
    return;
  }
  if (typeof value === 'number') {
    if (key) set.add('value', `${key}=${value}`);
    return;
  }
  if (typeof value !== 'string') return;
  const short = value.length <= MAX_KEY_VALUE_CHARS && !value.includes('\n');
  if (short && key && FILE_KEY.test(key)) set.add(fileKind(fn), value);
  else if (short && key && URL_KEY.test(key)) set.add('url', value);
  else if (short && key && ID_KEY.test(key)) set.add('id', `${key}=${value}`);
  else factsOfText(set, value, fn);
}

function factsOfText(set: FactSet, text: string, fn: string): void {
  const urls = [...text.matchAll(URL_TEXT)].map((m) => m[0].replace(/[.,;:!?]+$/, ''));
  for (const url of urls) set.add('url', url);
  const rest = urls.length ? text.replace(URL_TEXT, ' ') : text;
  for (const m of rest.matchAll(PATH_TEXT)) set.add(fileKind(fn), m[0].replace(/[.,;:]+$/, ''));
  for (const pattern of [UUID_TEXT, PREFIXED_ID_TEXT, HASH_TEXT, ISSUE_TEXT])
    for (const m of rest.matchAll(pattern)) set.add('id', m[0]);
  const paired = new Set<string>();
  for (const m of rest.matchAll(KEY_VALUE_TEXT)) {
    set.add('value', m[0]);
    paired.add(m[2]!.trim());
  }
  for (const m of rest.matchAll(NUMBER_TEXT)) if (!paired.has(m[0])) set.add('value', m[0]);
}

/**
 * Fold new facts into the ledger: a fact seen again moves to the newest end; the oldest facts go
 * first when the ledger is over `maxFacts` or `maxTokens`.
 */
export function mergeLedger(
  previous: Ledger,
  fresh: Fact[],
  bounds: { maxFacts: number; maxTokens: number },
  counter: TokenCounter,
): Ledger {
  const order = new Map<string, Fact>();
  for (const fact of [...previous.facts, ...fresh]) {
    const key = `${fact[0]}\u0000${fact[1]}`;
    order.delete(key);
    order.set(key, fact);
  }
  const facts = [...order.values()];
  const cost = (fact: Fact) => counter.text(fact[1]) + 2;
  let tokens = facts.reduce((sum, fact) => sum + cost(fact), 0);
  let dropped = previous.dropped;
  let start = 0;
  while (start < facts.length && (facts.length - start > bounds.maxFacts || tokens > bounds.maxTokens)) {
    tokens -= cost(facts[start]!);
    start++;
    dropped++;
  }
  return { facts: facts.slice(start), dropped };
}

const GROUPS: Array<[FactKind, string]> = [
  ['file_read', 'Files read'],
  ['file_written', 'Files written or changed'],
  ['file', 'Files'],
  ['function', 'Functions called'],
  ['url', 'URLs'],
  ['id', 'Ids'],
  ['value', 'Values'],
];

export const LEDGER_HEADING = '## Fact ledger';

/** The ledger as the model reads it, after the summary. */
export function renderLedger(ledger: Ledger): string {
  if (!ledger.facts.length) return '';
  const lines = [
    LEDGER_HEADING,
    'Taken verbatim from the function calls and results that were compacted (exact values, not a summary).',
  ];
  for (const [kind, title] of GROUPS) {
    const values = ledger.facts.filter((f) => f[0] === kind).map((f) => f[1]);
    if (!values.length) continue;
    lines.push(`${title}:`);
    for (const value of values) lines.push(`- ${value}`);
  }
  if (ledger.dropped) lines.push(`(${ledger.dropped} older facts were dropped to keep this list bounded.)`);
  return lines.join('\n');
}
