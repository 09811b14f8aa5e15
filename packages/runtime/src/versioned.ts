import type { z } from 'zod';
import { formatZodIssues, HarnessError } from './errors.js';

/** One upgrade step: a record of version n in, the same record as version n + 1 out (without `v`). */
export type Migration = (record: Record<string, unknown>) => Record<string, unknown>;

export interface VersionedRecordSpec<T> {
  /** What the record is, for errors: `approval hold`, `credentials file`. */
  what: string;
  /** The version this code writes. */
  current: number;
  /** The current shape; `v` is checked here and need not be part of it. */
  schema: z.ZodType<T>;
  /** `migrations[n]` upgrades version n to n + 1; every version from the oldest readable one up is listed. */
  migrations: Readonly<Record<number, Migration>>;
  /** The version of a record that carries no version at all (written before records were versioned). */
  unversioned?: number;
  /** Where older writers put the version when it was not `v` (read only: the migration drops it). */
  legacyVersionField?: string;
}

export interface VersionedRecord<T> {
  readonly current: number;
  /** A stored value in the current shape: older versions migrated step by step, newer ones refused. */
  read(value: unknown, where: string): T & { v: number };
  /** The value to store: the record stamped with the current version. */
  stamp<R extends object>(record: R): R & { v: number };
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Stored records carry a version `v`. A reader that finds an older version migrates it, one small
 * function per step, so each change of shape is written down once; a newer version is refused
 * (`unavailable/unsupported_record_version`, not retryable): an older worker must not guess at —
 * or, by writing back, destroy — what a newer one stored.
 */
export function versionedRecord<T>(spec: VersionedRecordSpec<T>): VersionedRecord<T> {
  const malformed = (where: string, detail: string) =>
    new HarnessError('internal', `${spec.what} at ${where} is malformed: ${detail}`, { reason: 'malformed_record' });

  function versionOf(value: Record<string, unknown>, where: string): number {
    const stated = value.v ?? (spec.legacyVersionField ? value[spec.legacyVersionField] : undefined);
    if (stated === undefined && spec.unversioned !== undefined) return spec.unversioned;
    if (typeof stated !== 'number' || !Number.isInteger(stated) || stated < 0)
      throw malformed(where, 'no valid version field "v"');
    return stated;
  }

  return {
    current: spec.current,
    read(value, where) {
      if (!isRecord(value)) throw malformed(where, 'not an object');
      let version = versionOf(value, where);
      if (version > spec.current)
        throw new HarnessError(
          'unavailable',
          `${spec.what} at ${where} has version ${version}; this worker reads versions up to ${spec.current} (upgrade the worker)`,
          { reason: 'unsupported_record_version', retryable: false },
        );
      let record: Record<string, unknown> = value;
      for (; version < spec.current; version++) {
        const step = spec.migrations[version];
        if (!step) throw malformed(where, `version ${version} is too old to migrate`);
        const { v: _old, ...fields } = record;
        record = step(fields);
      }
      const { v: _v, ...fields } = record;
      const parsed = spec.schema.safeParse(fields);
      if (!parsed.success) throw malformed(where, formatZodIssues(parsed.error));
      return { ...(parsed.data as T), v: spec.current };
    },
    stamp: (record) => ({ ...record, v: spec.current }),
  };
}
