import type { BudgetPeriod } from '@iii-harness/types';

/**
 * Calendar periods in an IANA time zone, with nothing but `Intl`. A period is `[start, end)` in
 * epoch milliseconds; a day starts at the first instant whose local date is that day, which is
 * local midnight except where a DST jump skips midnight (then the day starts at the jump).
 * Weeks start on Monday (ISO 8601).
 */

export interface PeriodWindow {
  /** `day:2026-03-08`, `week:2026-03-02`, `month:2026-03`, `total`: part of the counter key. */
  key: string;
  /** `2026-03-08`, `2026-03-02`, `2026-03`, `total`. */
  label: string;
  start: number;
  /** null for `total`. */
  end: number | null;
}

interface LocalDate {
  year: number;
  month: number; // 1-12
  day: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      era: 'short',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** The local calendar date of an instant in a zone. */
export function localDateAt(at: number, timeZone: string): LocalDate {
  let year = 0;
  let month = 0;
  let day = 0;
  let bc = false;
  for (const part of formatterFor(timeZone).formatToParts(at)) {
    if (part.type === 'year') year = Number(part.value);
    else if (part.type === 'month') month = Number(part.value);
    else if (part.type === 'day') day = Number(part.value);
    else if (part.type === 'era') bc = part.value.startsWith('B');
  }
  return { year: bc ? 1 - year : year, month, day };
}

/** Days since 1970-01-01 of a calendar date: comparable, and the unit of date arithmetic. */
const dayNumber = (d: LocalDate) => Math.floor(Date.UTC(d.year, d.month - 1, d.day) / 86_400_000);

function dateOfDayNumber(n: number): LocalDate {
  const date = new Date(n * 86_400_000);
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

const startCache = new Map<string, number>();
const START_CACHE_MAX = 4096;

/**
 * The first instant whose local date (in `timeZone`) is `date`: a binary search over whole
 * seconds in the 30 hours around that date's midnight UTC (every zone's offset is within ±15 h),
 * where the local date only moves forward.
 */
export function startOfLocalDate(date: LocalDate, timeZone: string): number {
  const target = dayNumber(date);
  const cacheKey = `${timeZone}|${target}`;
  const cached = startCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const midnightUtcSeconds = target * 86_400;
  let lo = midnightUtcSeconds - 15 * 3600; // local date here is < target
  let hi = midnightUtcSeconds + 15 * 3600; // local date here is >= target
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dayNumber(localDateAt(mid * 1000, timeZone)) >= target) hi = mid;
    else lo = mid;
  }
  const start = hi * 1000;
  if (startCache.size >= START_CACHE_MAX) startCache.clear();
  startCache.set(cacheKey, start);
  return start;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
const dateLabel = (d: LocalDate) => `${pad(d.year, 4)}-${pad(d.month)}-${pad(d.day)}`;

/**
 * The period of kind `period` that contains `at`. `totalStart` is where a `total` period starts
 * (the budget's creation or last reset).
 */
export function periodAt(period: BudgetPeriod, timeZone: string, at: number, totalStart: number): PeriodWindow {
  if (period === 'total') return { key: 'total', label: 'total', start: totalStart, end: null };
  const today = localDateAt(at, timeZone);
  const n = dayNumber(today);
  let first: LocalDate;
  let next: LocalDate;
  let label: string;
  if (period === 'day') {
    first = today;
    next = dateOfDayNumber(n + 1);
    label = dateLabel(first);
  } else if (period === 'week') {
    const weekday = (new Date(n * 86_400_000).getUTCDay() + 6) % 7; // Monday = 0
    first = dateOfDayNumber(n - weekday);
    next = dateOfDayNumber(n - weekday + 7);
    label = dateLabel(first);
  } else {
    first = { year: today.year, month: today.month, day: 1 };
    next = today.month === 12 ? { year: today.year + 1, month: 1, day: 1 } : { ...first, month: today.month + 1 };
    label = `${pad(first.year, 4)}-${pad(first.month)}`;
  }
  return {
    key: `${period}:${label}`,
    label,
    start: startOfLocalDate(first, timeZone),
    end: startOfLocalDate(next, timeZone),
  };
}
