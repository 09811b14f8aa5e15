/**
 * Cron expressions as the Rust `cron` crate (used by the engine) reads them:
 * `sec min hour day-of-month month day-of-week [year]` (6 or 7 fields, seconds first), or one of
 * `@yearly @monthly @weekly @daily @hourly`. Fields take `*`, `n`, `a-b`, lists `a,b`, steps
 * `*\/n`, `a/n`, `a-b/n`, and names (JAN-DEC, SUN-SAT). `?` is allowed in day-of-month and
 * day-of-week only. Quirks kept: day-of-week is 1-7 with **1 = Sunday**, and day-of-month and
 * day-of-week must BOTH match (no Vixie-cron OR). Times are UTC.
 */

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: Record<string, number>;
  allowAny?: boolean;
}

const MONTHS: Record<string, number> = {
  jan: 1,
  january: 1,
  feb: 2,
  february: 2,
  mar: 3,
  march: 3,
  apr: 4,
  april: 4,
  may: 5,
  jun: 6,
  june: 6,
  jul: 7,
  july: 7,
  aug: 8,
  august: 8,
  sep: 9,
  september: 9,
  oct: 10,
  october: 10,
  nov: 11,
  november: 11,
  dec: 12,
  december: 12,
};
const WEEKDAYS: Record<string, number> = {
  sun: 1,
  sunday: 1,
  mon: 2,
  monday: 2,
  tue: 3,
  tues: 3,
  tuesday: 3,
  wed: 4,
  wednesday: 4,
  thu: 5,
  thurs: 5,
  thursday: 5,
  fri: 6,
  friday: 6,
  sat: 7,
  saturday: 7,
};

const FIELDS: FieldSpec[] = [
  { name: 'Seconds', min: 0, max: 59 },
  { name: 'Minutes', min: 0, max: 59 },
  { name: 'Hours', min: 0, max: 23 },
  { name: 'Days of Month', min: 1, max: 31, allowAny: true },
  { name: 'Months', min: 1, max: 12, names: MONTHS },
  { name: 'Days of Week', min: 1, max: 7, names: WEEKDAYS, allowAny: true },
  { name: 'Years', min: 1970, max: 2100 },
];

const SHORTHANDS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 1',
  '@daily': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

export class CronExpressionError extends Error {}

export interface CronSchedule {
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  years: Set<number>;
}

function range(min: number, max: number, step = 1): number[] {
  const out: number[] = [];
  for (let v = min; v <= max; v += step) out.push(v);
  return out;
}

function ordinal(token: string, spec: FieldSpec): number {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    if (n < spec.min || n > spec.max)
      throw new CronExpressionError(`${spec.name}: ${n} is outside ${spec.min}-${spec.max}`);
    return n;
  }
  const named = spec.names?.[token.toLowerCase()];
  if (named === undefined) throw new CronExpressionError(`${spec.name}: '${token}' is not a valid value`);
  return named;
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    if (part === '') throw new CronExpressionError(`${spec.name}: empty list item`);
    const slash = part.indexOf('/');
    const base = slash === -1 ? part : part.slice(0, slash);
    let step = 1;
    if (slash !== -1) {
      const stepText = part.slice(slash + 1);
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0)
        throw new CronExpressionError(`${spec.name}: invalid step '${stepText}'`);
      step = Number(stepText);
    }
    let lo: number;
    let hi: number;
    if (base === '*' || base === '?') {
      if (base === '?' && !spec.allowAny)
        throw new CronExpressionError(`${spec.name}: '?' is only allowed in day-of-month and day-of-week`);
      [lo, hi] = [spec.min, spec.max];
    } else if (base.includes('-')) {
      const [a, b, extra] = base.split('-');
      if (a === undefined || b === undefined || extra !== undefined || a === '' || b === '')
        throw new CronExpressionError(`${spec.name}: invalid range '${base}'`);
      [lo, hi] = [ordinal(a, spec), ordinal(b, spec)];
      if (lo > hi) throw new CronExpressionError(`${spec.name}: range start ${lo} is after its end ${hi}`);
    } else {
      // A named point cannot take a step (`MON/2` is invalid); a numeric one runs to the max.
      if (slash !== -1 && !/^\d+$/.test(base))
        throw new CronExpressionError(`${spec.name}: '${part}' is not a valid period`);
      lo = ordinal(base, spec);
      hi = slash === -1 ? lo : spec.max;
    }
    for (const v of range(lo, hi, step)) values.add(v);
  }
  return values;
}

export function parseCronExpression(expression: string): CronSchedule {
  const trimmed = expression.trim();
  const text = SHORTHANDS[trimmed] ?? trimmed;
  const fields = text.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 6 && fields.length !== 7)
    throw new CronExpressionError(`Expression has ${fields.length} fields. Valid cron expressions have 6 or 7.`);
  const sets = fields.map((f, i) => parseField(f, FIELDS[i]!));
  return {
    seconds: sets[0]!,
    minutes: sets[1]!,
    hours: sets[2]!,
    daysOfMonth: sets[3]!,
    months: sets[4]!,
    daysOfWeek: sets[5]!,
    years: sets[6] ?? new Set(range(1970, 2100)),
  };
}

function matchesDay(s: CronSchedule, d: Date): boolean {
  return (
    s.years.has(d.getUTCFullYear()) &&
    s.months.has(d.getUTCMonth() + 1) &&
    s.daysOfMonth.has(d.getUTCDate()) &&
    s.daysOfWeek.has(d.getUTCDay() + 1)
  );
}

/** The first fire time strictly after `after` (UTC, whole seconds), or undefined if none before 2101. */
export function nextFireTime(s: CronSchedule, after: Date): Date | undefined {
  const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  // Walk day by day, then hour/minute/second within a matching day.
  for (let guard = 0; guard < 366 * 131; guard++) {
    if (t.getUTCFullYear() > 2100) return undefined;
    if (!matchesDay(s, t)) {
      t.setUTCHours(0, 0, 0, 0);
      t.setUTCDate(t.getUTCDate() + 1);
      continue;
    }
    const found = nextTimeInDay(s, t);
    if (found) return found;
    t.setUTCHours(0, 0, 0, 0);
    t.setUTCDate(t.getUTCDate() + 1);
  }
  return undefined;
}

function nextTimeInDay(s: CronSchedule, from: Date): Date | undefined {
  const h0 = from.getUTCHours();
  for (let h = h0; h < 24; h++) {
    if (!s.hours.has(h)) continue;
    const m0 = h === h0 ? from.getUTCMinutes() : 0;
    for (let m = m0; m < 60; m++) {
      if (!s.minutes.has(m)) continue;
      const sec0 = h === h0 && m === m0 ? from.getUTCSeconds() : 0;
      for (let sec = sec0; sec < 60; sec++) {
        if (s.seconds.has(sec)) {
          const d = new Date(from);
          d.setUTCHours(h, m, sec, 0);
          return d;
        }
      }
    }
  }
  return undefined;
}
