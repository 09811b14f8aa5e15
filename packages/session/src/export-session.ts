import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import { readPath } from './path.js';
import { toSessionEntry, toSessionInfo } from './records.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-markdown.js';
import type { SessionStore } from './store.js';
import { loadTree } from './tree.js';

const MIME = {
  jsonl: 'application/x-ndjson',
  markdown: 'text/markdown; charset=utf-8',
  html: 'text/html; charset=utf-8',
} as const;

export const exportSession = (store: SessionStore) =>
  (async ({ session_id, format, leaf_id }) => {
    const meta = await store.requireMeta(session_id);
    const info = toSessionInfo(meta);
    let content: string;
    if (format === 'jsonl') {
      const { ordered } = await loadTree(store, session_id, null);
      const lines = [{ type: 'session', version: 1, ...info }, ...ordered.map(toSessionEntry)];
      content = `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`;
    } else {
      const path = (await readPath(store, meta, leaf_id ?? meta.leaf_id ?? null, 'full')).entries.map(toSessionEntry);
      content = format === 'html' ? renderHtml(info, path) : renderMarkdown(info, path);
    }
    return { session_id, format, mime_type: MIME[format], content };
  }) satisfies Handler<typeof contracts.session.export>;
