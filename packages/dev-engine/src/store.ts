/**
 * SQLite persistence for state and streams (the queue module adds its own tables to the same
 * database). Writes go through the database's WriteBatch: a write's promise resolves once its
 * transaction has committed, so it is on disk before its caller gets a reply. WAL +
 * synchronous=NORMAL keeps committed transactions across a process kill (only an OS crash could
 * lose the last ones).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Database as Db, Statement } from 'better-sqlite3';
import Database from 'better-sqlite3';
import type { StateStorage, StreamStorage, UpdateStep } from './storage.js';
import { type WriteBatch, writeBatchOf } from './write-batch.js';

export function openDatabase(options: { memory?: boolean; dataDir?: string }): { db: Db; path: string } {
  if (options.memory) return { db: new Database(':memory:'), path: ':memory:' };
  const dir = resolve(options.dataDir ?? './.iii-data');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'engine.db');
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return { db, path };
}

/**
 * Every write here reads, computes (which may throw, before anything is written), then runs at
 * most one write statement and nothing after it: SQLite undoes a failed statement by itself and
 * the batch's transaction keeps other writes out, so no savepoint is needed around it, and a
 * write alone in its tick commits in autocommit mode (issue 20, lever 7).
 */
const ONE_WRITE = { atomic: true };

/** A value as stored: JSON text, or undefined when the key is absent. */
function decode(row: { value: string } | undefined): unknown {
  return row === undefined ? undefined : JSON.parse(row.value);
}

export class StateStore implements StateStorage {
  private readonly getStmt: Statement<[string, string], { value: string }>;
  private readonly putStmt: Statement<[string, string, string]>;
  private readonly delStmt: Statement<[string, string]>;
  private readonly listStmt: Statement<[string], { value: string }>;
  private readonly groupsStmt: Statement<[], { scope: string }>;
  private readonly batch: WriteBatch;

  constructor(db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS state_kv (
      scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (scope, key))`);
    this.getStmt = db.prepare('SELECT value FROM state_kv WHERE scope = ? AND key = ?');
    this.putStmt = db.prepare(
      'INSERT INTO state_kv (scope, key, value) VALUES (?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value',
    );
    this.delStmt = db.prepare('DELETE FROM state_kv WHERE scope = ? AND key = ?');
    this.listStmt = db.prepare('SELECT value FROM state_kv WHERE scope = ?');
    this.groupsStmt = db.prepare('SELECT DISTINCT scope FROM state_kv ORDER BY scope');
    this.batch = writeBatchOf(db);
  }

  /** The value now, or a promise of it when writes are pending (it then waits for them). */
  get(scope: string, key: string): unknown | Promise<unknown> {
    return this.batch.read(() => decode(this.getStmt.get(scope, key)));
  }

  set(scope: string, key: string, value: unknown): Promise<unknown> {
    return this.update(scope, key, (old) => ({ value, result: old }));
  }

  /** Read-modify-write in one transaction; `next` returns the new value (or undefined to delete). */
  update<T>(scope: string, key: string, next: UpdateStep<T>): Promise<T> {
    return this.batch.write(() => {
      const row = this.getStmt.get(scope, key);
      const { value, result } = next(decode(row), () => decode(row));
      if (value === undefined) this.delStmt.run(scope, key);
      else this.putStmt.run(scope, key, JSON.stringify(value));
      return result;
    }, ONE_WRITE);
  }

  /** Resolves with the value that was there (undefined if none). */
  delete(scope: string, key: string): Promise<unknown> {
    return this.batch.write(() => {
      const old = decode(this.getStmt.get(scope, key));
      if (old !== undefined) this.delStmt.run(scope, key);
      return old;
    }, ONE_WRITE);
  }

  list(scope: string): unknown[] | Promise<unknown[]> {
    return this.batch.read(() => this.listStmt.all(scope).map((r) => JSON.parse(r.value)));
  }

  groups(): string[] | Promise<string[]> {
    return this.batch.read(() => this.groupsStmt.all().map((r) => r.scope));
  }
}

export class StreamStore implements StreamStorage {
  private readonly getStmt: Statement<[string, string, string], { value: string }>;
  private readonly putStmt: Statement<[string, string, string, string]>;
  private readonly delStmt: Statement<[string, string, string]>;
  private readonly listStmt: Statement<[string, string], { value: string }>;
  private readonly groupsStmt: Statement<[string], { group_id: string }>;
  private readonly allStmt: Statement<[], { stream_name: string; group_id: string }>;
  private readonly batch: WriteBatch;

  constructor(db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS stream_items (
      stream_name TEXT NOT NULL, group_id TEXT NOT NULL, item_id TEXT NOT NULL, value TEXT NOT NULL,
      PRIMARY KEY (stream_name, group_id, item_id))`);
    this.getStmt = db.prepare('SELECT value FROM stream_items WHERE stream_name = ? AND group_id = ? AND item_id = ?');
    this.putStmt = db.prepare(
      'INSERT INTO stream_items (stream_name, group_id, item_id, value) VALUES (?, ?, ?, ?) ON CONFLICT (stream_name, group_id, item_id) DO UPDATE SET value = excluded.value',
    );
    this.delStmt = db.prepare('DELETE FROM stream_items WHERE stream_name = ? AND group_id = ? AND item_id = ?');
    this.listStmt = db.prepare('SELECT value FROM stream_items WHERE stream_name = ? AND group_id = ?');
    this.groupsStmt = db.prepare('SELECT DISTINCT group_id FROM stream_items WHERE stream_name = ? ORDER BY group_id');
    this.allStmt = db.prepare('SELECT DISTINCT stream_name, group_id FROM stream_items ORDER BY stream_name, group_id');
    this.batch = writeBatchOf(db);
  }

  /** The item now, or a promise of it when writes are pending (it then waits for them). */
  get(stream: string, group: string, item: string): unknown | Promise<unknown> {
    return this.batch.read(() => decode(this.getStmt.get(stream, group, item)));
  }

  set(stream: string, group: string, item: string, value: unknown): Promise<unknown> {
    return this.update(stream, group, item, (old) => ({ value, result: old }));
  }

  update<T>(stream: string, group: string, item: string, next: UpdateStep<T>): Promise<T> {
    return this.batch.write(() => {
      const row = this.getStmt.get(stream, group, item);
      const { value, result } = next(decode(row), () => decode(row));
      if (value === undefined) this.delStmt.run(stream, group, item);
      else this.putStmt.run(stream, group, item, JSON.stringify(value));
      return result;
    }, ONE_WRITE);
  }

  delete(stream: string, group: string, item: string): Promise<unknown> {
    return this.batch.write(() => {
      const old = decode(this.getStmt.get(stream, group, item));
      if (old !== undefined) this.delStmt.run(stream, group, item);
      return old;
    }, ONE_WRITE);
  }

  list(stream: string, group: string): unknown[] | Promise<unknown[]> {
    return this.batch.read(() => this.listStmt.all(stream, group).map((r) => JSON.parse(r.value)));
  }

  groups(stream: string): string[] | Promise<string[]> {
    return this.batch.read(() => this.groupsStmt.all(stream).map((r) => r.group_id));
  }

  /** `[{id: stream_name, groups: [...]}]` for `stream::list_all`. */
  streams(): Array<{ id: string; groups: string[] }> | Promise<Array<{ id: string; groups: string[] }>> {
    return this.batch.read(() => {
      const out = new Map<string, string[]>();
      for (const r of this.allStmt.all()) {
        const groups = out.get(r.stream_name) ?? [];
        groups.push(r.group_id);
        out.set(r.stream_name, groups);
      }
      return [...out].map(([id, groups]) => ({ id, groups }));
    });
  }
}
