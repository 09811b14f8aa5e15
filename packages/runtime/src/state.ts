import { contracts, type UpdateOp } from '@iii-harness/types';
import type { z } from 'zod';
import type { Bus } from './bus.js';
import { formatZodIssues, HarnessError } from './errors.js';

export type { UpdateOp };

export interface UpdateResult<T> {
  old_value: T | null;
  new_value: T;
  errors?: Array<{ op_index: number; code: string; message: string }>;
}

/** Parse a stored value, treating a mismatch as corruption rather than bad input. */
export function parseStored<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return value as T;
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new HarnessError('internal', `stored value at ${where} is malformed: ${formatZodIssues(parsed.error)}`);
  return parsed.data;
}

const { stateGet, stateSet, stateUpdate, stateDelete, stateList } = contracts.engine;

/** Engine key/value state (`state::*`), scoped. */
export class EngineState {
  constructor(private readonly bus: Bus) {}

  /** The value, or undefined when the key is absent. */
  async get<T = unknown>(scope: string, key: string, schema?: z.ZodType<T>): Promise<T | undefined> {
    const value = await this.bus.call(stateGet, { scope, key });
    return value === undefined || value === null ? undefined : parseStored(schema, value, `${scope}/${key}`);
  }

  async set<T>(scope: string, key: string, value: T): Promise<{ old_value: T | null; new_value: T }> {
    return (await this.bus.call(stateSet, { scope, key, value })) as { old_value: T | null; new_value: T };
  }

  /** Atomic update; the engine applies the ops in order and reports per-op errors. */
  async update<T = unknown>(scope: string, key: string, ops: UpdateOp[]): Promise<UpdateResult<T>> {
    return (await this.bus.call(stateUpdate, { scope, key, ops })) as UpdateResult<T>;
  }

  /** The old value, or undefined when there was none. */
  async delete<T = unknown>(scope: string, key: string): Promise<T | undefined> {
    const old = await this.bus.call(stateDelete, { scope, key });
    return (old ?? undefined) as T | undefined;
  }

  /** All values of a scope, in no particular order (the engine does not order them). */
  async list<T = unknown>(scope: string, schema?: z.ZodType<T>): Promise<T[]> {
    const values = (await this.bus.call(stateList, { scope })) ?? [];
    return values.map((value) => parseStored(schema, value, scope));
  }
}
