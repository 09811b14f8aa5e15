import type { z } from 'zod';
import type { Bus } from './bus.js';
import { HarnessError } from './errors.js';
import { formatZodIssues } from './handler.js';

/** The engine's update ops (`state::update`, `stream::update`). `path` is one top-level key except for merge/append. */
export type UpdateOp =
  | { type: 'set'; path: string; value: unknown }
  | { type: 'merge'; path?: string | string[]; value: Record<string, unknown> }
  | { type: 'increment' | 'decrement'; path: string; by: number }
  | { type: 'append'; path?: string | string[]; value: unknown }
  | { type: 'remove'; path: string };

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

/** Engine key/value state (`state::*`), scoped. */
export class EngineState {
  constructor(private readonly bus: Bus) {}

  /** The value, or undefined when the key is absent. */
  async get<T = unknown>(scope: string, key: string, schema?: z.ZodType<T>): Promise<T | undefined> {
    const value = await this.bus.call('state::get', { scope, key });
    return value === undefined || value === null ? undefined : parseStored(schema, value, `${scope}/${key}`);
  }

  set<T>(scope: string, key: string, value: T): Promise<{ old_value: T | null; new_value: T }> {
    return this.bus.call('state::set', { scope, key, value });
  }

  /** Atomic update; the engine applies the ops in order and reports per-op errors. */
  async update<T = unknown>(scope: string, key: string, ops: UpdateOp[]): Promise<UpdateResult<T>> {
    return this.bus.call('state::update', { scope, key, ops });
  }

  /** The old value, or undefined when there was none. */
  async delete<T = unknown>(scope: string, key: string): Promise<T | undefined> {
    const old = await this.bus.call('state::delete', { scope, key });
    return (old ?? undefined) as T | undefined;
  }

  /** All values of a scope, in no particular order (the engine does not order them). */
  async list<T = unknown>(scope: string, schema?: z.ZodType<T>): Promise<T[]> {
    const values = ((await this.bus.call('state::list', { scope })) ?? []) as unknown[];
    return values.map((value) => parseStored(schema, value, scope));
  }
}
