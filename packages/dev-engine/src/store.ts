/**
 * SQLite persistence for state and streams (the queue module adds its own tables to the same
 * database). Every statement runs in autocommit or an explicit transaction, synchronously, so a
 * write is committed before its caller gets a reply. WAL + synchronous=NORMAL keeps committed
 * transactions across a process kill (only an OS crash could lose the last ones).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';

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

/** A value as stored: JSON text, or undefined when the key is absent. */
function decode(row: { value: string } | undefined): unknown {
  return row === undefined ? undefined : JSON.parse(row.value);
}

export class StateStore {
  private readonly getStmt: Statement<[string, string], { value: string }>;
  private readonly putStmt: Statement<[string, string, string]>;
  private readonly delStmt: Statement<[string, string]>;
  private readonly listStmt: Statement<[string], { value: string }>;
  private readonly groupsStmt: Statement<[], { scope: string }>;
  /** Transaction functions are built once: wrapping per call costs a third of a write. */
  private readonly updateTx: <T>(scope: string, key: string, next: (old: unknown) => { value: unknown; result: T }) => T;
  private readonly deleteTx: (scope: string, key: string) => unknown;

  constructor(db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS state_kv (
      scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (scope, key))`);
    this.getStmt = db.prepare('SELECT value FROM state_kv WHERE scope = ? AND key = ?');
    this.putStmt = db.prepare('INSERT INTO state_kv (scope, key, value) VALUES (?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value');
    this.delStmt = db.prepare('DELETE FROM state_kv WHERE scope = ? AND key = ?');
    this.listStmt = db.prepare('SELECT value FROM state_kv WHERE scope = ?');
    this.groupsStmt = db.prepare('SELECT DISTINCT scope FROM state_kv ORDER BY scope');
    this.updateTx = db.transaction((scope: string, key: string, next: (old: unknown) => { value: unknown; result: unknown }) => {
      const { value, result } = next(this.get(scope, key));
      if (value === undefined) this.delStmt.run(scope, key);
      else this.putStmt.run(scope, key, JSON.stringify(value));
      return result;
    }) as StateStore['updateTx'];
    this.deleteTx = db.transaction((scope: string, key: string) => {
      const old = this.get(scope, key);
      if (old !== undefined) this.delStmt.run(scope, key);
      return old;
    });
  }

  get(scope: string, key: string): unknown {
    return decode(this.getStmt.get(scope, key));
  }

  /** Read-modify-write in one transaction; `next` returns the new value (or undefined to delete). */
  update<T>(scope: string, key: string, next: (old: unknown) => { value: unknown; result: T }): T {
    return this.updateTx(scope, key, next);
  }

  delete(scope: string, key: string): unknown {
    return this.deleteTx(scope, key);
  }

  list(scope: string): unknown[] {
    return this.listStmt.all(scope).map((r) => JSON.parse(r.value));
  }

  groups(): string[] {
    return this.groupsStmt.all().map((r) => r.scope);
  }
}

export class StreamStore {
  private readonly getStmt: Statement<[string, string, string], { value: string }>;
  private readonly putStmt: Statement<[string, string, string, string]>;
  private readonly delStmt: Statement<[string, string, string]>;
  private readonly listStmt: Statement<[string, string], { value: string }>;
  private readonly groupsStmt: Statement<[string], { group_id: string }>;
  private readonly allStmt: Statement<[], { stream_name: string; group_id: string }>;
  private readonly updateTx: <T>(stream: string, group: string, item: string, next: (old: unknown) => { value: unknown; result: T }) => T;
  private readonly deleteTx: (stream: string, group: string, item: string) => unknown;

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
    this.updateTx = db.transaction((stream: string, group: string, item: string, next: (old: unknown) => { value: unknown; result: unknown }) => {
      const { value, result } = next(this.get(stream, group, item));
      if (value === undefined) this.delStmt.run(stream, group, item);
      else this.putStmt.run(stream, group, item, JSON.stringify(value));
      return result;
    }) as StreamStore['updateTx'];
    this.deleteTx = db.transaction((stream: string, group: string, item: string) => {
      const old = this.get(stream, group, item);
      if (old !== undefined) this.delStmt.run(stream, group, item);
      return old;
    });
  }

  get(stream: string, group: string, item: string): unknown {
    return decode(this.getStmt.get(stream, group, item));
  }

  update<T>(stream: string, group: string, item: string, next: (old: unknown) => { value: unknown; result: T }): T {
    return this.updateTx(stream, group, item, next);
  }

  delete(stream: string, group: string, item: string): unknown {
    return this.deleteTx(stream, group, item);
  }

  list(stream: string, group: string): unknown[] {
    return this.listStmt.all(stream, group).map((r) => JSON.parse(r.value));
  }

  groups(stream: string): string[] {
    return this.groupsStmt.all(stream).map((r) => r.group_id);
  }

  /** `[{id: stream_name, groups: [...]}]` for `stream::list_all`. */
  streams(): Array<{ id: string; groups: string[] }> {
    const out = new Map<string, string[]>();
    for (const r of this.allStmt.all()) {
      const groups = out.get(r.stream_name) ?? [];
      groups.push(r.group_id);
      out.set(r.stream_name, groups);
    }
    return [...out].map(([id, groups]) => ({ id, groups }));
  }
}
