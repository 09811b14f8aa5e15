/**
 * The global function map: `function_id -> handler`. The router decides who may claim an id (a
 * live holder keeps it); a removal only happens if the remover is still the owner, so a stale
 * connection's cleanup never deletes a newer registration of the same id (the engine's
 * `claim_function` / `release_function_if_owner`).
 */

import type { WorkerConnection } from '../connection.js';
import type { BuiltinFunction } from '../engine-api.js';

interface FunctionInfo {
  id: string;
  description?: string;
  request_format?: unknown;
  response_format?: unknown;
  metadata?: unknown;
  registeredAtMs: number;
}

/** Runs inside the engine: an engine builtin, or an HTTP-invoked function a worker registered (`owner`). */
export interface BuiltinEntry extends FunctionInfo {
  kind: 'builtin';
  builtin: BuiltinFunction;
  owner?: WorkerConnection;
}

/** Lives in a worker; invocations are forwarded over its connection. */
export interface RemoteEntry extends FunctionInfo {
  kind: 'remote';
  owner: WorkerConnection;
  /** The id the worker itself registered, when stored under another (RBAC prefix or hook). */
  localId?: string;
}

export type FunctionEntry = BuiltinEntry | RemoteEntry;

export class FunctionRegistry {
  private readonly entries = new Map<string, FunctionEntry>();
  private readonly listeners = new Set<() => void>();

  get(id: string): FunctionEntry | undefined {
    return this.entries.get(id);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  all(): IterableIterator<FunctionEntry> {
    return this.entries.values();
  }

  /** Insert or overwrite; returns the entry it replaced, if any. */
  claim(entry: FunctionEntry): FunctionEntry | undefined {
    const previous = this.entries.get(entry.id);
    this.entries.set(entry.id, entry);
    this.changed();
    return previous;
  }

  /** Remove `id` only if `owner` still owns it (a connection, or `'builtin'` for in-process functions). */
  releaseIfOwner(id: string, owner: WorkerConnection | 'builtin'): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    const owns = owner === 'builtin' ? entry.kind === 'builtin' && entry.owner === undefined : entry.owner === owner;
    if (!owns) return false;
    this.entries.delete(id);
    this.changed();
    return true;
  }

  /** Every function currently owned by `owner`. */
  ownedBy(owner: WorkerConnection): FunctionEntry[] {
    const out: FunctionEntry[] = [];
    for (const e of this.entries.values()) if (e.owner === owner) out.push(e);
    return out;
  }

  onChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
