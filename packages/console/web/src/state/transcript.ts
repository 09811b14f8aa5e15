import type { AssistantMessage, FunctionResultMessage, SessionEntry } from '@iii-harness/types';
import type { TurnSummary } from '../../../src/protocol.js';

/** A session's entry tree as the page holds it (from `session::tree`, kept current by events). */
export interface Tree {
  nodes: Map<string, SessionEntry>;
  /** Children per parent, oldest first; the key `''` holds the roots. */
  children: Map<string, string[]>;
  leaf: string | null;
}

export const emptyTree = (): Tree => ({ nodes: new Map(), children: new Map(), leaf: null });

export function addNode(tree: Tree, entry: SessionEntry): void {
  const known = tree.nodes.has(entry.id);
  tree.nodes.set(entry.id, entry);
  if (known) return;
  const parent = entry.parent_id ?? '';
  const siblings = tree.children.get(parent) ?? [];
  siblings.push(entry.id);
  siblings.sort((a, b) => (tree.nodes.get(a)?.seq ?? 0) - (tree.nodes.get(b)?.seq ?? 0));
  tree.children.set(parent, siblings);
}

/** Root → leaf. */
export function activePath(tree: Tree): SessionEntry[] {
  const path: SessionEntry[] = [];
  const seen = new Set<string>();
  for (let id = tree.leaf; id && !seen.has(id); ) {
    seen.add(id);
    const entry = tree.nodes.get(id);
    if (!entry) break;
    path.push(entry);
    id = entry.parent_id;
  }
  return path.reverse();
}

export const siblingsOf = (tree: Tree, entry: SessionEntry): string[] => tree.children.get(entry.parent_id ?? '') ?? [];

/** The newest leaf under an entry: where switching to that branch lands. */
export function newestLeafUnder(tree: Tree, entryId: string): string {
  let id = entryId;
  for (let kids = tree.children.get(id); kids?.length; kids = tree.children.get(id)) id = kids[kids.length - 1]!;
  return id;
}

export type Row =
  | { kind: 'user'; key: string; entry: SessionEntry; text: string }
  | {
      kind: 'assistant';
      key: string;
      entry: SessionEntry;
      message: AssistantMessage;
      results: ReadonlyMap<string, FunctionResultMessage>;
      turn?: TurnSummary;
    }
  | { kind: 'result'; key: string; entry: SessionEntry; message: FunctionResultMessage }
  | { kind: 'entry'; key: string; entry: SessionEntry }
  | { kind: 'pending'; key: string; text: string }
  | { kind: 'draft'; key: string };

export const userText = (content: string | Array<{ type: string; text?: string }>): string =>
  typeof content === 'string'
    ? content
    : content.map((b) => (b.type === 'text' ? (b.text ?? '') : b.type === 'image' ? '[image]' : '')).join('\n');

/**
 * What the transcript shows for a path: function results fold into the card of the call they
 * answer (an orphan result keeps its own row), and each turn's usage sits on its last answer.
 */
export function buildRows(path: SessionEntry[], turns: ReadonlyMap<string, TurnSummary>): Row[] {
  const results = new Map<string, FunctionResultMessage>();
  const calls = new Set<string>();
  for (const entry of path) {
    if (entry.type !== 'message') continue;
    const m = entry.message;
    if (m.role === 'function_result') results.set(m.function_call_id, m);
    if (m.role === 'assistant') for (const b of m.content) if (b.type === 'function_call') calls.add(b.id);
  }
  const lastOfTurn = new Map<string, string>();
  for (const entry of path) {
    if (entry.type !== 'message' || entry.message.role !== 'assistant') continue;
    const turnId = entry.id.split(':')[0];
    if (turnId && turns.has(turnId)) lastOfTurn.set(turnId, entry.id);
  }
  const rows: Row[] = [];
  for (const entry of path) {
    if (entry.type !== 'message') {
      rows.push({ kind: 'entry', key: entry.id, entry });
      continue;
    }
    const m = entry.message;
    if (m.role === 'user') rows.push({ kind: 'user', key: entry.id, entry, text: userText(m.content) });
    else if (m.role === 'assistant') {
      const turnId = entry.id.split(':')[0] ?? '';
      const turn = lastOfTurn.get(turnId) === entry.id ? turns.get(turnId) : undefined;
      rows.push({ kind: 'assistant', key: entry.id, entry, message: m, results, ...(turn ? { turn } : {}) });
    } else if (!calls.has(m.function_call_id)) rows.push({ kind: 'result', key: entry.id, entry, message: m });
  }
  return rows;
}
