import { stripVTControlCharacters } from 'node:util';
import type { Row, SpanRole, SpanRow, WaitRow } from './model.js';

/**
 * A waterfall in the terminal: one line per row — its name indented by depth, a bar placed on a
 * shared time axis, its duration. Stretches where nothing runs (a person deciding, the time
 * between two turns) are shortened on the axis to a few columns marked `≈`, so the work stays
 * readable next to a wait of minutes.
 */

/** How a piece of the waterfall looks; the command maps these to colours (tests read it plain). */
export type Look = SpanRole | 'dim' | 'error' | 'wait' | `${SpanRole | 'wait'}-label`;
export type Painter = (look: Look, text: string) => string;
const plain: Painter = (_look, text) => text;

export interface Segment {
  from: number;
  to: number;
  colFrom: number;
  colTo: number;
  collapsed: boolean;
}

/** Columns a shortened idle stretch takes. */
const GAP_COLUMNS = 3;

/** Busy intervals merged, in order. */
function busyBlocks(intervals: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  const blocks: Array<[number, number]> = [];
  for (const [from, to] of sorted) {
    const last = blocks.at(-1);
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else blocks.push([from, Math.max(from, to)]);
  }
  return blocks;
}

/**
 * The time axis: `busy` are the spans' intervals, `[start, end]` the whole window. An idle stretch
 * longer than a quarter of the busy time (and than 200 ms) is collapsed to GAP_COLUMNS columns.
 */
export function timeAxis(busy: Array<[number, number]>, start: number, end: number, width: number): Segment[] {
  const blocks = busyBlocks(busy);
  const busyMs = blocks.reduce((n, [a, b]) => n + (b - a), 0);
  const threshold = Math.max(200, busyMs / 4);
  const pieces: Array<{ from: number; to: number; idle: boolean }> = [];
  let cursor = start;
  for (const [from, to] of blocks) {
    if (from > cursor) pieces.push({ from: cursor, to: from, idle: true });
    pieces.push({ from: Math.max(from, cursor), to, idle: false });
    cursor = Math.max(cursor, to);
  }
  if (end > cursor) pieces.push({ from: cursor, to: end, idle: true });
  const collapse = pieces.map((p) => p.idle && p.to - p.from > threshold);
  const collapsedCount = collapse.filter(Boolean).length;
  const linearWidth = width - collapsedCount * GAP_COLUMNS;
  const useCollapse = collapsedCount > 0 && linearWidth >= 10;
  const linearMs = pieces.reduce((n, p, i) => n + (useCollapse && collapse[i] ? 0 : p.to - p.from), 0);
  const perMs = linearMs > 0 ? (useCollapse ? linearWidth : width) / linearMs : 0;
  const segments: Segment[] = [];
  let col = 0;
  pieces.forEach((p, i) => {
    const collapsed = useCollapse && collapse[i]!;
    // A shortened stretch sits on whole columns, so its marker lines up in every row.
    if (collapsed) col = Math.round(col);
    const cols = collapsed ? GAP_COLUMNS : (p.to - p.from) * perMs;
    segments.push({ from: p.from, to: p.to, colFrom: col, colTo: col + cols, collapsed });
    col += cols;
  });
  return segments.length ? segments : [{ from: start, to: end, colFrom: 0, colTo: width, collapsed: false }];
}

/** The column of a time on the axis (fractional). */
export function columnOf(segments: Segment[], t: number): number {
  const first = segments[0]!;
  if (t <= first.from) return first.colFrom;
  for (const s of segments)
    if (t <= s.to)
      return s.to === s.from ? s.colFrom : s.colFrom + ((t - s.from) / (s.to - s.from)) * (s.colTo - s.colFrom);
  return segments.at(-1)!.colTo;
}

export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const DECISION_TEXT: Record<string, string> = {
  allow: 'allowed',
  deny: 'denied',
  aborted: 'turn stopped before a decision',
  decided: 'decided',
};

function waitOutcome(row: WaitRow): string {
  const what = row.function_id ? `${row.function_id} · ` : '';
  if (!row.decision) return `${what}still waiting`;
  const text = DECISION_TEXT[row.decision] ?? row.decision;
  return `${what}${text}${row.reason ? `: ${row.reason}` : ''}`;
}

/** Cut a label to `max` characters, keeping its indentation. */
function fitLabel(label: string, max: number): string {
  return label.length > max ? `${label.slice(0, Math.max(0, max - 1))}…` : label;
}

function rowLabel(row: Row): string {
  const pad = '  '.repeat(row.depth);
  if (row.kind === 'wait') return `${pad}⏸ waiting for a person`;
  return `${pad}${row.failed ? '✖ ' : ''}${row.name}`;
}

function paintLabel(row: Row, text: string, paint: Painter): string {
  if (row.kind === 'wait') return paint('wait-label', text);
  if (row.failed) return paint('error', text);
  return paint(`${row.role}-label`, text);
}

function bar(row: Row, segments: Segment[], width: number, paint: Painter): string {
  const from = Math.min(width - 1, Math.floor(columnOf(segments, row.start)));
  const to = Math.min(width, Math.max(from + 1, Math.ceil(columnOf(segments, row.end))));
  const cells: string[] = [];
  for (let col = 0; col < width; col++) {
    // The middle column of a shortened stretch carries its marker.
    const gapMark = segments.some((s) => s.collapsed && col === s.colFrom + Math.floor(GAP_COLUMNS / 2));
    if (col >= from && col < to) cells.push(row.kind === 'wait' ? '░' : '█');
    else cells.push(gapMark ? '≈' : ' ');
  }
  const text = cells.join('').trimEnd();
  const marks = (part: string) => part.replace(/≈/g, paint('dim', '≈'));
  const look: Look = row.kind === 'wait' ? 'wait' : row.failed ? 'error' : row.role;
  return marks(text.slice(0, from)) + paint(look, text.slice(from, to)) + marks(text.slice(to));
}

/** A short note after a span's duration: tokens and cost on model spans, when the spans carry them. */
function spanNote(row: SpanRow): string {
  const get = (suffix: string) => row.attributes.find(([k]) => k.endsWith(suffix))?.[1];
  const input = get('input_tokens');
  const output = get('output_tokens');
  const cost = get('cost_usd');
  const parts = [input && output ? `${input} in / ${output} out` : '', cost ? `$${cost}` : ''].filter(Boolean);
  return parts.join(' · ');
}

export interface WaterfallOptions {
  width: number;
  /** Log lines to print under a span (by span id). */
  logs?: Map<string, string[]>;
  paint?: Painter;
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The waterfall's lines: an axis, then one line per row (and an error or wait outcome under it). */
export function renderWaterfall(rows: Row[], options: WaterfallOptions): string[] {
  if (rows.length === 0) return [];
  const paint = options.paint ?? plain;
  const start = Math.min(...rows.map((r) => r.start));
  const end = Math.max(...rows.map((r) => r.end));
  const labels = rows.map(rowLabel);
  const nameWidth = Math.min(48, Math.max(24, ...labels.map((l) => l.length)) + 1);
  const durWidth = 9;
  const barWidth = Math.max(20, options.width - nameWidth - durWidth - 3);
  const busy = rows.flatMap((r): Array<[number, number]> => (r.kind === 'span' ? [[r.start, r.end]] : []));
  const segments = timeAxis(busy, start, end, barWidth);

  const axisRight = formatMs(end - start);
  const lines = [
    `${' '.repeat(nameWidth)} ${paint('dim', `0${' '.repeat(Math.max(1, barWidth - 1 - axisRight.length))}${axisRight}`)}`,
  ];
  const under = (row: Row, text: string, look: Look) => {
    const pad = '  '.repeat(row.depth + 1);
    lines.push(paint(look, `${pad}${fitLabel(text, options.width - pad.length)}`));
  };
  rows.forEach((row, i) => {
    const label = fitLabel(labels[i]!, nameWidth - 1);
    const name = paintLabel(row, label, paint) + ' '.repeat(Math.max(0, nameWidth - label.length));
    const barText = bar(row, segments, barWidth, paint);
    const barPad = ' '.repeat(Math.max(0, barWidth - stripVTControlCharacters(barText).length));
    const duration = formatMs(row.end - row.start).padStart(durWidth - 1);
    const note = row.kind === 'span' ? spanNote(row) : '';
    lines.push(`${name} ${barText}${barPad} ${paint('dim', `${duration}${note ? `  ${note}` : ''}`)}`.trimEnd());
    if (row.kind === 'wait') under(row, `⎿ ${waitOutcome(row)}`, row.decision ? 'dim' : 'wait');
    else {
      if (row.failed && row.error) under(row, `⎿ ${oneLine(row.error)}`, 'error');
      for (const log of row.span_ids.flatMap((id) => options.logs?.get(id) ?? []))
        under(row, `│ ${oneLine(log)}`, 'dim');
    }
  });
  if (segments.some((s) => s.collapsed))
    lines.push(paint('dim', `${' '.repeat(nameWidth)} ≈ nothing running (shortened)`));
  return lines;
}
