/**
 * The storage seams of `iii-state` and `iii-stream`: one interface per store, implemented over
 * SQLite (`store.ts`, the default, one machine) and over Redis (`redis/stores.ts`, several
 * engines sharing one Redis, as the real engine's `redis` adapter). Reads answer synchronously
 * when they can (SQLite with no write pending), so callers accept `T | Promise<T>`.
 */

/**
 * A read-modify-write step: gets the stored value and `copyOfOld` (a second, independent decode
 * of the same stored text: re-parsing is cheaper than deep-cloning `old`), and returns the new
 * value (undefined deletes the key) and what `update` should return. It must be pure: a store
 * that loses a race (Redis) runs it again on the newer value.
 */
export type UpdateStep<T> = (old: unknown, copyOfOld: () => unknown) => { value: unknown; result: T };

export interface StateStorage {
  get(scope: string, key: string): unknown | Promise<unknown>;
  /** Stores `value`; resolves with the value that was there (undefined if none). */
  set(scope: string, key: string, value: unknown): Promise<unknown>;
  /** Atomic per key: no other write to the key lands between the read and the write. */
  update<T>(scope: string, key: string, step: UpdateStep<T>): Promise<T>;
  /** Resolves with the value that was there (undefined if none). */
  delete(scope: string, key: string): Promise<unknown>;
  list(scope: string): unknown[] | Promise<unknown[]>;
  /** Scopes holding at least one key, sorted. */
  groups(): string[] | Promise<string[]>;
}

export interface StreamStorage {
  get(stream: string, group: string, item: string): unknown | Promise<unknown>;
  set(stream: string, group: string, item: string, value: unknown): Promise<unknown>;
  update<T>(stream: string, group: string, item: string, step: UpdateStep<T>): Promise<T>;
  delete(stream: string, group: string, item: string): Promise<unknown>;
  list(stream: string, group: string): unknown[] | Promise<unknown[]>;
  /** Groups of `stream` holding at least one item, sorted. */
  groups(stream: string): string[] | Promise<string[]>;
  /** `[{id: stream_name, groups}]` for `stream::list_all`, sorted by name then group. */
  streams(): Array<{ id: string; groups: string[] }> | Promise<Array<{ id: string; groups: string[] }>>;
}
