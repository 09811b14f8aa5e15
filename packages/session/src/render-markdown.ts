import type { Message, SessionEntry, SessionInfo } from '@iii-harness/types';
import { contentBlocks } from './message-text.js';

/** A fence longer than any backtick run inside, so content can never close it early. */
export function fenced(text: string, lang = ''): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text}\n${fence}`;
}

export const json = (value: unknown): string => JSON.stringify(value, null, 2);

export function sessionTitle(info: SessionInfo): string {
  return info.display_name ?? `Session ${info.session_id}`;
}

export function entryHeading(entry: SessionEntry): string {
  switch (entry.type) {
    case 'message':
      return messageHeading(entry.message);
    case 'custom':
      return `Custom: ${entry.custom_type}`;
    case 'branch_summary':
      return 'Branch summary';
    case 'compaction':
      return `Compaction (${entry.tokens_before} tokens before)`;
  }
}

function messageHeading(message: Message): string {
  if (message.role === 'user') return 'User';
  if (message.role === 'assistant') return `Assistant (${message.provider}/${message.model})`;
  return `Function result: ${message.function_id}${message.is_error ? ' (error)' : ''}`;
}

function messageMarkdown(message: Message): string[] {
  const parts: string[] = [];
  for (const block of contentBlocks(message)) {
    if (block.type === 'text') parts.push(block.text);
    else if (block.type === 'thinking')
      parts.push(
        block.redacted
          ? '> _(redacted thinking)_'
          : block.thinking
              .split('\n')
              .map((line) => `> ${line}`)
              .join('\n'),
      );
    else if (block.type === 'image') parts.push(`_[image: ${block.mime_type}]_`);
    else if (block.type === 'server_tool_use')
      parts.push(`**Vendor tool \`${block.name}\`** (${block.id})\n\n${fenced(json(block.input), 'json')}`);
    else if (block.type === 'server_tool_result')
      parts.push(`**Vendor tool result** \`${block.result_type}\`\n\n${fenced(json(block.content), 'json')}`);
    else parts.push(`**Call \`${block.name}\`** (${block.id})\n\n${fenced(json(block.arguments), 'json')}`);
  }
  return parts;
}

function entryMarkdown(entry: SessionEntry): string[] {
  switch (entry.type) {
    case 'message':
      return messageMarkdown(entry.message);
    case 'custom':
      return [fenced(json(entry.data), 'json')];
    case 'branch_summary':
    case 'compaction':
      return [entry.summary];
  }
}

/** The path as Markdown: one section per entry. Message text is the author's own Markdown. */
export function renderMarkdown(info: SessionInfo, path: SessionEntry[]): string {
  const lines = [
    `# ${sessionTitle(info)}`,
    '',
    `- Session: \`${info.session_id}\``,
    `- Created: ${new Date(info.created_at).toISOString()}`,
    `- Entries on this path: ${path.length} (of ${info.entry_count})`,
  ];
  for (const entry of path)
    lines.push(
      '',
      `## ${entryHeading(entry)}`,
      '',
      ...entryMarkdown(entry).flatMap((part, i) => (i ? ['', part] : [part])),
    );
  return `${lines.join('\n')}\n`;
}
