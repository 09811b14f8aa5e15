import { stripVTControlCharacters } from 'node:util';
import chalk, { type ChalkInstance } from 'chalk';

/**
 * Colours and layout for command output. Colour is on only when stdout is a terminal and neither
 * NO_COLOR nor --no-color says otherwise (main.ts turns NO_COLOR into FORCE_COLOR=0 before chalk
 * loads, because chalk itself does not read NO_COLOR).
 */
export const c: ChalkInstance = chalk;

export const sym = {
  ok: () => c.green('✔'),
  fail: () => c.red('✖'),
  warn: () => c.yellow('!'),
  dot: () => c.dim('·'),
};

const visibleLength = (text: string) => stripVTControlCharacters(text).length;

/** Rows as aligned columns (the last column is not padded). Cells may carry colour. */
export function table(rows: string[][], options: { indent?: number; gap?: number } = {}): string {
  const indent = ' '.repeat(options.indent ?? 0);
  const gap = ' '.repeat(options.gap ?? 2);
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, visibleLength(cell));
    });
  return rows
    .map(
      (row) =>
        indent +
        row
          .map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell))))
          .join(gap)
          .trimEnd(),
    )
    .join('\n');
}

/** A timestamp as a short local time, or date and time when it is not today. */
export function when(ms: number, now = Date.now()): string {
  const date = new Date(ms);
  const sameDay = new Date(now).toDateString() === date.toDateString();
  const time = date.toTimeString().slice(0, 5);
  return sameDay ? time : `${date.toISOString().slice(0, 10)} ${time}`;
}

/** Shorten to `max` visible characters on one line. */
export function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, Math.max(0, max - 1))}…` : oneLine;
}

export function formatCost(usd: number | undefined): string {
  if (usd === undefined) return 'cost unknown';
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function formatTokens(n: number): string {
  return n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

/** Write data as pretty JSON (for `--json` on commands whose output is one document). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
