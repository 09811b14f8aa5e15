import { type Bus, HarnessError, type UpdateOp, versionedRecord } from '@iii-harness/runtime';
import { type Budget, type BudgetScope, budgetRecord, type CallScopes } from '@iii-harness/types';
import { z } from 'zod';
import type { Config } from './config.js';
import { type LogEvent, reservationRecord } from './reservation-log.js';

/**
 * Where llm-budget keeps everything in engine state (prefix `budget` by default):
 *
 * | scope                | key                              | value                                          |
 * | -------------------- | -------------------------------- | ---------------------------------------------- |
 * | `budget_budgets`     | budget id                        | the budget                                     |
 * | `budget_scopes`      | `<kind>:<id>`                    | `{"b~<budget id>": true}`: budgets per scope   |
 * | `budget_usage`       | `<budget id>~<epoch>~<period>`   | a counter (see counters.ts)                    |
 * | `budget_reservations`| reservation id                   | `{log: LogEvent[]}` (see reservation-log.ts)   |
 * | `budget_open`        | `<reservation id>~<gen>`         | an owner that may hold: the sweeper's work list|
 * | `budget_gc:<minute>` | reservation id                   | `{rid}`: reservations created that minute      |
 * | `budget_gc`          | `cursor`                         | the collector's progress                       |
 *
 * The records this store writes whole (budget, open owner, gc marker and cursor) carry a version
 * `v`; the reservation log, built by `append` ops alone, carries none until a later version adds
 * one. Records without `v` are version 1 (today's shape). A newer version is refused
 * (`unavailable/unsupported_record_version`): this worker must not guess at what a newer one wrote.
 */
export class BudgetStore {
  readonly budgets: string;
  readonly scopes: string;
  readonly usage: string;
  readonly reservations: string;
  readonly open: string;
  readonly gc: string;

  constructor(
    readonly bus: Bus,
    config: Pick<Config, 'state_prefix'>,
  ) {
    const p = config.state_prefix;
    this.budgets = `${p}_budgets`;
    this.scopes = `${p}_scopes`;
    this.usage = `${p}_usage`;
    this.reservations = `${p}_reservations`;
    this.open = `${p}_open`;
    this.gc = `${p}_gc`;
  }

  /** `state::update`, failing loudly if the engine rejected an op (a bug, never bad input). */
  async update(scope: string, key: string, ops: UpdateOp[]): Promise<{ old: Doc | null; doc: Doc }> {
    const result = await this.bus.state.update<Doc>(scope, key, ops);
    if (result.errors?.length)
      throw new HarnessError(
        'internal',
        `state::update ${scope}/${key} rejected: ${result.errors.map((e) => e.message).join('; ')}`,
      );
    return { old: asDoc(result.old_value), doc: asDoc(result.new_value) ?? {} };
  }

  // ------------------------------------------------------------------ budgets

  async getBudget(budgetId: string): Promise<Budget | undefined> {
    const raw = await this.bus.state.get(this.budgets, budgetId);
    return raw === undefined ? undefined : readBudget(raw, `${this.budgets}/${budgetId}`);
  }

  async putBudget(budget: Budget): Promise<void> {
    await this.bus.state.set(this.budgets, budget.budget_id, versions.budget.stamp(budget));
  }

  async requireBudget(budgetId: string): Promise<Budget> {
    const found = await this.getBudget(budgetId);
    if (!found) throw new HarnessError('not_found', `budget ${budgetId} does not exist`);
    return found;
  }

  async listBudgets(): Promise<Budget[]> {
    return (await this.bus.state.list(this.budgets)).map((raw) => readBudget(raw, this.budgets));
  }

  /** Every budget covering one scope (index first, then the records; stale index entries skipped). */
  async budgetsOfScope(scope: BudgetScope): Promise<Budget[]> {
    const index = asDoc(await this.bus.state.get(this.scopes, scopeKey(scope))) ?? {};
    const ids = Object.keys(index)
      .filter((k) => k.startsWith('b~'))
      .map((k) => k.slice(2));
    const found = await Promise.all(ids.map((id) => this.getBudget(id)));
    return found.filter((b): b is Budget => b !== undefined && b.scope.kind === scope.kind && b.scope.id === scope.id);
  }

  /** Every budget covering a call, ordered by id: the fixed order reservations take holds in. */
  async budgetsCovering(scopes: CallScopes): Promise<Budget[]> {
    const lists = await Promise.all(scopeList(scopes).map((scope) => this.budgetsOfScope(scope)));
    return lists.flat().sort((a, b) => (a.budget_id < b.budget_id ? -1 : a.budget_id > b.budget_id ? 1 : 0));
  }

  async indexBudget(budget: Budget): Promise<void> {
    await this.update(this.scopes, scopeKey(budget.scope), [
      { type: 'set', path: `b~${budget.budget_id}`, value: true },
    ]);
  }

  async unindexBudget(budget: Budget): Promise<void> {
    await this.update(this.scopes, scopeKey(budget.scope), [{ type: 'remove', path: `b~${budget.budget_id}` }]);
  }

  // ------------------------------------------------------------------ reservations

  async getLog(rid: string): Promise<LogEvent[] | undefined> {
    const raw = await this.bus.state.get(this.reservations, rid);
    return raw === undefined ? undefined : versions.reservation.read(raw, `${this.reservations}/${rid}`).log;
  }

  /** Append one event; the log as it stands right after it (the event is its last element). */
  async append(rid: string, event: LogEvent): Promise<LogEvent[]> {
    const { doc } = await this.update(this.reservations, rid, [{ type: 'append', path: 'log', value: event }]);
    return versions.reservation.read(doc, `${this.reservations}/${rid}`).log;
  }

  async deleteReservation(rid: string): Promise<void> {
    await this.bus.state.delete(this.reservations, rid);
  }

  // ------------------------------------------------------------------ open owners (the sweeper's list)

  async setOpen(entry: OpenEntry): Promise<void> {
    await this.bus.state.set(this.open, openKey(entry.rid, entry.gen), versions.open.stamp(entry));
  }

  async deleteOpen(rid: string, gen: number): Promise<void> {
    await this.bus.state.delete(this.open, openKey(rid, gen));
  }

  async listOpen(): Promise<OpenEntry[]> {
    return readable(await this.bus.state.list(this.open), (raw) => {
      const { v: _v, ...entry } = versions.open.read(raw, this.open);
      return entry;
    });
  }

  // ------------------------------------------------------------------ record collection

  /** One small key per reservation in a scope per creation minute: no document grows with traffic. */
  async noteCreated(rid: string, minute: number): Promise<void> {
    await this.bus.state.set(`${this.gc}:${minute}`, rid, versions.created.stamp({ rid }));
  }

  async createdIn(minute: number): Promise<string[]> {
    const scope = `${this.gc}:${minute}`;
    return readable(await this.bus.state.list(scope), (value) => versions.created.read(value, scope).rid);
  }

  async forgetCreated(rid: string, minute: number): Promise<void> {
    await this.bus.state.delete(`${this.gc}:${minute}`, rid);
  }

  async gcCursor(): Promise<number | undefined> {
    const raw = await this.bus.state.get(this.gc, 'cursor');
    return raw === undefined ? undefined : versions.cursor.read(raw, `${this.gc}/cursor`).minute;
  }

  async setGcCursor(minute: number): Promise<void> {
    await this.bus.state.set(this.gc, 'cursor', versions.cursor.stamp({ minute }));
  }
}

export type Doc = Record<string, unknown>;

export const asDoc = (value: unknown): Doc | null =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Doc) : null;

export const scopeKey = (scope: BudgetScope) => `${scope.kind}:${scope.id}`;

/** The scopes a call runs under, as budget scopes. */
export function scopeList(scopes: CallScopes): BudgetScope[] {
  const list: BudgetScope[] = [];
  if (scopes.workspace_id) list.push({ kind: 'workspace', id: scopes.workspace_id });
  if (scopes.agent_id) list.push({ kind: 'agent', id: scopes.agent_id });
  if (scopes.session_id) list.push({ kind: 'session', id: scopes.session_id });
  return list;
}

export const openEntry = z.object({
  rid: z.string(),
  gen: z.number().int(),
  at: z.number().int(),
  /** Counter keys this owner may have placed holds in. */
  counters: z.array(z.string()),
});
export type OpenEntry = z.infer<typeof openEntry>;

const openKey = (rid: string, gen: number) => `${rid}~${gen}`;

/** Every record type this store reads whole, versioned (all still version 1: no migrations yet). */
const version1 = <T>(what: string, schema: z.ZodType<T>) =>
  versionedRecord({ what, current: 1, unversioned: 1, schema, migrations: {} });
const versions = {
  budget: version1('budget', budgetRecord),
  reservation: version1('budget reservation', reservationRecord),
  open: version1('budget open owner', openEntry),
  created: version1('budget gc marker', z.object({ rid: z.string() })),
  cursor: version1('budget gc cursor', z.object({ minute: z.number().int() })),
};

/**
 * The records of a listing this worker can read. The sweeper's lists leave out records of a newer
 * version (a newer worker's to sweep) rather than stop on them; anything else malformed still throws.
 */
function readable<T>(values: unknown[], read: (value: unknown) => T): T[] {
  const out: T[] = [];
  for (const value of values) {
    try {
      out.push(read(value));
    } catch (error) {
      if (!(error instanceof HarnessError && error.reason === 'unsupported_record_version')) throw error;
    }
  }
  return out;
}

/** A stored budget in the current shape (`v` checked and dropped). */
export function readBudget(value: unknown, where: string): Budget {
  const { v: _v, ...budget } = versions.budget.read(value, where);
  return budget;
}
