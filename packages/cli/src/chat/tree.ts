import type { SessionEntry } from '@iii-harness/types';
import type { SessionTree } from '../client.js';
import { c, clip } from '../style.js';

/**
 * A session's branching tree as text: a straight run of entries stays in one column, and where
 * an entry has several children each branch is drawn with ├─ / └─. The active path is marked ●,
 * its leaf "← you are here". Only messages and summaries are shown (results fold into the call).
 */

function label(entry: SessionEntry): string | undefined {
  if (entry.type === 'message') {
    const m = entry.message;
    if (m.role === 'user')
      return `${c.bold('you')}: ${clip(typeof m.content === 'string' ? m.content : m.content.map((b) => (b.type === 'text' ? b.text : '[image]')).join(''), 60)}`;
    if (m.role === 'assistant') {
      const text = m.content.find((b) => b.type === 'text');
      const calls = m.content.filter((b) => b.type === 'function_call').length;
      return `${c.cyan('agent')}: ${clip(text && text.type === 'text' ? text.text : '', 50)}${calls ? c.dim(` (+${calls} call${calls > 1 ? 's' : ''})`) : ''}`;
    }
    return undefined;
  }
  if (entry.type === 'compaction') return c.dim('[compaction summary]');
  if (entry.type === 'branch_summary') return c.dim('[summary of a branch]');
  return undefined;
}

export interface TreeLeaf {
  entry_id: string;
  label: string;
  active: boolean;
}

export function renderTree(tree: SessionTree): { text: string; leaves: TreeLeaf[] } {
  const nodes = new Map(tree.nodes.map((n) => [n.entry.id, n]));
  const onPath = new Set(tree.active_path);
  const lines: string[] = [];
  const leaves: TreeLeaf[] = [];

  /** The last labelled entry of a branch, for the leaf picker. */
  const walk = (id: string, prefix: string, branchMark: string, lastLabel: string) => {
    let current: string | undefined = id;
    let first = true;
    let latest = lastLabel;
    while (current) {
      const node = nodes.get(current);
      if (!node) return;
      const text = label(node.entry);
      if (text) {
        latest = text;
        const mark = onPath.has(current) ? c.green('●') : c.dim('○');
        const here = current === tree.leaf_id ? c.green('  ← you are here') : '';
        lines.push(`${prefix}${first ? branchMark : branchMark ? '   ' : ''}${mark} ${text}${here}`);
        first = false;
      }
      if (node.children.length === 0) {
        leaves.push({ entry_id: current, label: latest, active: current === tree.leaf_id });
        return;
      }
      if (node.children.length === 1) {
        current = node.children[0];
        continue;
      }
      const childPrefix = prefix + (branchMark ? '   ' : '');
      for (const [i, child] of node.children.entries())
        walk(child, childPrefix, i === node.children.length - 1 ? '└─ ' : '├─ ', latest);
      return;
    }
  };

  if (tree.roots.length > 1)
    for (const [i, root] of tree.roots.entries()) walk(root, '', i === tree.roots.length - 1 ? '└─ ' : '├─ ', '');
  else if (tree.roots[0]) walk(tree.roots[0], '', '', '');
  return { text: lines.length ? lines.join('\n') : c.dim('(empty session)'), leaves };
}
