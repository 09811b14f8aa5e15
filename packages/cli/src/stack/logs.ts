import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { c } from '../style.js';

/** Each process of `iii-harness dev` writes `<data dir>/logs/<name>.log`. */
export const logsDir = (dataDir: string) => join(dataDir, 'logs');
export const logFile = (dataDir: string, name: string) => join(logsDir(dataDir), `${name}.log`);

export function logNames(dataDir: string): string[] {
  const dir = logsDir(dataDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .map((f) => basename(f, '.log'))
    .sort();
}

/** The last `count` lines of a file (reads only its tail). */
export function tailLines(path: string, count: number): string[] {
  if (!existsSync(path)) return [];
  const size = statSync(path).size;
  const length = Math.min(size, 256 * 1024);
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buffer, 0, length, size - length);
  } finally {
    closeSync(fd);
  }
  const lines = buffer.toString('utf8').split('\n').filter(Boolean);
  return lines.slice(-count);
}

/** The last line that says something, formatted, for one-line error messages. */
export function lastLine(path: string): string | undefined {
  const [line] = tailLines(path, 1);
  return line === undefined ? undefined : plainMessage(line);
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const QUIET_KEYS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'worker', 'name', 'v']);

interface Parsed {
  time?: number;
  level: string;
  source?: string;
  msg: string;
  extra: string;
}

function parse(line: string): Parsed | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    const level = typeof record.level === 'number' ? (LEVELS[record.level] ?? 'info') : String(record.level ?? 'info');
    const time = typeof record.time === 'number' ? record.time : Date.parse(String(record.time ?? ''));
    const extra = Object.entries(record)
      .filter(([k]) => !QUIET_KEYS.has(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return {
      ...(Number.isFinite(time) ? { time } : {}),
      level,
      source:
        typeof record.worker === 'string' ? record.worker : typeof record.name === 'string' ? record.name : undefined,
      msg: String(record.msg ?? ''),
      extra,
    };
  } catch {
    return undefined;
  }
}

function plainMessage(line: string): string {
  const parsed = parse(line);
  return parsed ? `${parsed.msg}${parsed.extra ? ` (${parsed.extra})` : ''}` : line;
}

const levelColour: Record<string, (s: string) => string> = {
  error: c.red,
  fatal: c.red,
  warn: c.yellow,
  info: c.green,
  debug: c.dim,
  trace: c.dim,
};

/** A pino JSON line as `HH:MM:SS level [process] message key=value`; other lines as they are. */
export function formatLogLine(name: string, line: string): string {
  const parsed = parse(line);
  if (!parsed) return `${c.dim(`[${name}]`)} ${line}`;
  const time = parsed.time ? new Date(parsed.time).toTimeString().slice(0, 8) : '--:--:--';
  const level = (levelColour[parsed.level] ?? ((s: string) => s))(parsed.level.padEnd(5));
  return `${c.dim(time)} ${level} ${c.cyan(`[${name}]`)} ${parsed.msg}${parsed.extra ? c.dim(` ${parsed.extra}`) : ''}`;
}

/** The time of a log line (0 when it has none), to merge several logs in order. */
export function lineTime(line: string): number {
  return parse(line)?.time ?? 0;
}

/** Read a file from `offset`; returns the complete new lines and where to read next. */
export function readNew(path: string, offset: number): { lines: string[]; offset: number } {
  if (!existsSync(path)) return { lines: [], offset: 0 };
  const size = statSync(path).size;
  if (size < offset) offset = 0; // truncated or replaced
  if (size === offset) return { lines: [], offset };
  const text = readFileSync(path).subarray(offset).toString('utf8');
  const end = text.lastIndexOf('\n');
  if (end < 0) return { lines: [], offset };
  return {
    lines: text.slice(0, end).split('\n').filter(Boolean),
    offset: offset + Buffer.byteLength(text.slice(0, end + 1)),
  };
}
