import type { Message, SessionEntry, SessionInfo } from '@iii-harness/types';
import { contentBlocks } from './message-text.js';
import { entryHeading, json, sessionTitle } from './render-markdown.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape for HTML text and quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const text = (value: string, cls = 'text') => `<div class="${cls}">${escapeHtml(value)}</div>`;
const code = (value: string) => `<pre class="code">${escapeHtml(value)}</pre>`;

function messageHtml(message: Message): string[] {
  const parts: string[] = [];
  for (const block of contentBlocks(message)) {
    if (block.type === 'text') parts.push(text(block.text));
    else if (block.type === 'thinking')
      parts.push(text(block.redacted ? '(redacted thinking)' : block.thinking, 'thinking'));
    else if (block.type === 'image') {
      // The MIME type is schema-checked; the data is embedded only if it is plain base64.
      parts.push(
        BASE64.test(block.data)
          ? `<img alt="image" src="data:${escapeHtml(block.mime_type)};base64,${block.data}">`
          : text(`[image: ${block.mime_type}]`),
      );
    } else if (block.type === 'server_tool_use')
      parts.push(
        `<div class="call">Vendor tool <code>${escapeHtml(block.name)}</code> <span class="id">${escapeHtml(block.id)}</span></div>${code(json(block.input))}`,
      );
    else if (block.type === 'server_tool_result')
      parts.push(
        `<div class="call">Vendor tool result <code>${escapeHtml(block.result_type)}</code></div>${code(json(block.content))}`,
      );
    else
      parts.push(
        `<div class="call">Call <code>${escapeHtml(block.name)}</code> <span class="id">${escapeHtml(block.id)}</span></div>${code(json(block.arguments))}`,
      );
  }
  return parts;
}

function entryHtml(entry: SessionEntry): string {
  const body =
    entry.type === 'message'
      ? messageHtml(entry.message)
      : entry.type === 'custom'
        ? [code(json(entry.data))]
        : [text(entry.summary)];
  const role = entry.type === 'message' ? ` ${entry.message.role}` : '';
  return `<section class="entry ${entry.type}${role}" id="entry-${escapeHtml(entry.id)}">\n<h2>${escapeHtml(entryHeading(entry))}</h2>\n${body.join('\n')}\n</section>`;
}

const STYLE = [
  'body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}',
  '.entry{border-left:4px solid #ccc;padding:.25rem 1rem;margin:1rem 0}',
  '.user{border-color:#3b82f6}.assistant{border-color:#10b981}.function_result{border-color:#f59e0b}',
  '.compaction,.branch_summary{border-color:#8b5cf6}.custom{border-color:#9ca3af}',
  'h2{font-size:1rem;margin:.25rem 0}.text,.thinking{white-space:pre-wrap}.thinking{color:#6b7280;font-style:italic}',
  '.code{background:#f4f4f5;padding:.5rem;overflow-x:auto}.id{color:#9ca3af;font-size:.8rem}img{max-width:100%}',
].join('\n');

/**
 * A standalone HTML page of the path. Every piece of session content is escaped, and a
 * Content-Security-Policy allowing no script is a second line of defence.
 */
export function renderHtml(info: SessionInfo, path: SessionEntry[]): string {
  const title = escapeHtml(sessionTitle(info));
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${title}</title>`,
    `<style>\n${STYLE}\n</style>`,
    '</head>',
    '<body>',
    `<h1>${title}</h1>`,
    `<p class="id">Session ${escapeHtml(info.session_id)} · created ${new Date(info.created_at).toISOString()} · ${path.length} entries on this path</p>`,
    ...path.map(entryHtml),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
