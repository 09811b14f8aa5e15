import type { Item } from '../chat/transcript.js';
import { c, clip, formatCost, formatTokens } from '../style.js';
import { renderMarkdown } from './markdown.js';

/**
 * One transcript item as terminal text. The chat prints these into the scrollback; `send --wait`
 * and `sessions show` print the same lines, so every surface looks alike.
 */

const RESULT_LINES = 3;

const indent = (text: string, prefix = '  ') =>
  text
    .split('\n')
    .map((line) => (line ? prefix + line : line))
    .join('\n');

/** Arguments on one line, cut to fit. */
export function formatArgs(args: unknown, max: number): string {
  const json = args === undefined ? '' : JSON.stringify(args);
  if (!json || json === '{}') return '()';
  return `(${clip(json, Math.max(10, max))})`;
}

/** The first lines of a result, and how many more there are. */
function summarizeResult(text: string, maxWidth: number): { lines: string[]; more: number } {
  const all = text.replace(/\s+$/, '').split('\n');
  const lines = all.slice(0, RESULT_LINES).map((line) => clip(line, maxWidth));
  return { lines: lines.length ? lines : ['(empty)'], more: Math.max(0, all.length - RESULT_LINES) };
}

function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function renderItemText(item: Item, width: number): string {
  const w = Math.max(40, width);
  switch (item.kind) {
    case 'user':
      return `${c.bold.blue('❯')} ${c.bold(item.text.split('\n').join('\n  '))}${item.queued ? c.dim('  (sent to the running turn)') : ''}`;
    case 'markdown':
      // Each item is a complete block: a blank line after it keeps paragraphs apart.
      return `${indent(renderMarkdown(item.text, w - 2))}\n`;
    case 'thinking':
      return c.dim.italic(`  ✻ thought (${item.chars} chars) · /expand ${item.ref}`);
    case 'call': {
      const head = `${item.held ? c.yellow('⏸') : c.cyan('⏺')} ${c.bold(item.function_id)}`;
      const room = w - item.function_id.length - 12;
      return `${head}${c.dim(formatArgs(item.args, room))} ${c.dim(`#${item.ref}`)}`;
    }
    case 'result': {
      const { lines, more } = summarizeResult(item.text, w - 8);
      const paint = item.is_error ? c.red : c.dim;
      const tail = [
        more ? `+${more} line${more === 1 ? '' : 's'}` : '',
        item.duration_ms !== undefined ? formatDuration(item.duration_ms) : '',
        `/expand ${item.ref}`,
      ]
        .filter(Boolean)
        .join(' · ');
      const body = lines.map((line, i) => `${i === 0 ? '  ⎿ ' : '    '}${paint(line)}`).join('\n');
      return lines.length === 1 && lines[0]!.length < w - tail.length - 12
        ? `${body}  ${c.dim(tail)}`
        : `${body}\n    ${c.dim(tail)}`;
    }
    case 'decision': {
      const what = item.function_id ? ` ${item.function_id}` : '';
      if (item.decision === 'allow') return `  ${c.green('✔ allowed')}${c.dim(`${what} #${item.ref}`)}`;
      if (item.decision === 'deny')
        return `  ${c.red('✖ denied')}${c.dim(`${what} #${item.ref}`)}${item.reason ? `: ${item.reason}` : ''}`;
      return `  ${c.yellow(`■ ${item.decision}`)}${c.dim(`${what} #${item.ref}`)}${item.reason ? `: ${item.reason}` : ''}`;
    }
    case 'vendor_call': {
      const room = w - item.name.length - item.provider.length - 24;
      return `${c.blue('◆')} ${c.bold(item.name)}${c.dim(formatArgs(item.input, room))} ${c.dim(`· run by ${item.provider} #${item.ref}`)}`;
    }
    case 'vendor_result': {
      const paint = item.is_error ? c.red : c.dim;
      const body = item.lines.map((line, i) => `${i === 0 ? '  ⎿ ' : '    '}${paint(clip(line, w - 8))}`).join('\n');
      return `${body}  ${c.dim(`/expand ${item.ref}`)}`;
    }
    case 'sources':
      return item.lines
        .map((line, i) => `  ${c.dim(i === 0 ? 'Sources' : '       ')} ${c.dim(clip(line, w - 12))}`)
        .join('\n');
    case 'notice': {
      const paint = item.level === 'error' ? c.red : item.level === 'warn' ? c.yellow : c.dim;
      return paint(`• ${item.text}`);
    }
    case 'turn_end': {
      const u = item.usage;
      const parts = [
        item.status === 'stopped'
          ? c.green('done')
          : item.status === 'aborted'
            ? c.yellow('aborted')
            : c.red(`failed${item.error ? `: ${item.error}` : ''}`),
        `${formatTokens(u.input_tokens)} in / ${formatTokens(u.output_tokens)} out`,
        formatCost(item.cost_usd ?? u.cost_usd),
        formatDuration(item.duration_ms),
        item.reason && item.status === 'aborted' ? item.reason : '',
      ].filter(Boolean);
      return c.dim(`── ${parts.join(c.dim(' · '))} ${c.dim('──')}`);
    }
    case 'expanded':
      return `${c.bold(`┌ ${item.title}`)}\n${indent(item.text, c.dim('│ '))}\n${c.dim('└')}`;
    case 'output':
      return item.text;
  }
}
