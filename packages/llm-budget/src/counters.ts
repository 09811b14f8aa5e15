import type { Doc } from './store.js';
import { asDoc, type BudgetStore } from './store.js';

/**
 * One budget's usage in one period is one engine state document (a "counter"):
 *
 *   { spent_micro_usd, spent_tokens,   spend folded in (only ever increased, by a fold)
 *     "h~<ns>": {u, t, at},            a hold: one reservation attempt's worst case
 *     "c~<ns>": {u, t, at},            a settlement: what that reservation was charged
 *     "f~<ns>": n,                     a claim to fold c~<ns> into the totals
 *     "alert~…", "alerted_at~…", "sent~…"   alert claims (alerts.ts) }
 *
 *   used = spent + Σ c + Σ h        (what a new hold is checked against)
 *
 * Every write is one `state::update`, applied atomically by the engine, which answers with the
 * document before and after. Holds and settlements are keys, written with `set` and `remove`,
 * which are idempotent: doing one twice (a redelivered commit, a sweeper racing a retry, a
 * process killed after its write but before its reply) changes nothing the second time, and no
 * write is ever speculative. Only folding adds to the totals, and a fold is done by the one
 * process whose `increment` of the fold claim returned 1 (the README has the whole argument).
 */

export interface Amount {
  u: number;
  t: number;
  at: number;
}

export interface Totals {
  spent_micro_usd: number;
  spent_tokens: number;
  reserved_micro_usd: number;
  reserved_tokens: number;
}

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

export const holdKey = (ns: string) => `h~${ns}`;
const chargeKey = (ns: string) => `c~${ns}`;
const foldKey = (ns: string) => `f~${ns}`;

export function amountOf(value: unknown): Amount | undefined {
  const doc = asDoc(value);
  return doc ? { u: num(doc.u), t: num(doc.t), at: num(doc.at) } : undefined;
}

/** Spend (folded and not yet folded) and holds of a counter document; an absent one is all zeros. */
export function totalsOf(doc: Doc | null | undefined): Totals {
  const totals: Totals = { spent_micro_usd: 0, spent_tokens: 0, reserved_micro_usd: 0, reserved_tokens: 0 };
  if (!doc) return totals;
  totals.spent_micro_usd = num(doc.spent_micro_usd);
  totals.spent_tokens = num(doc.spent_tokens);
  for (const [key, value] of Object.entries(doc)) {
    const held = key.startsWith('h~');
    if (!held && !key.startsWith('c~')) continue;
    const amount = amountOf(value);
    if (!amount) continue;
    if (held) {
      totals.reserved_micro_usd += amount.u;
      totals.reserved_tokens += amount.t;
    } else {
      totals.spent_micro_usd += amount.u;
      totals.spent_tokens += amount.t;
    }
  }
  return totals;
}

/** The hold keys of a counter whose namespace starts with `prefix`. */
export function holdKeysWithPrefix(doc: Doc | null | undefined, prefix: string): string[] {
  return doc ? Object.keys(doc).filter((k) => k.startsWith(`h~${prefix}`)) : [];
}

export class Counters {
  constructor(private readonly store: BudgetStore) {}

  async get(key: string): Promise<Doc | null> {
    return asDoc(await this.store.bus.state.get(this.store.usage, key));
  }

  /** Place a hold; the counter's totals right after it (the hold included). */
  async hold(key: string, ns: string, hold: Amount): Promise<Totals> {
    const { doc } = await this.store.update(this.store.usage, key, [{ type: 'set', path: holdKey(ns), value: hold }]);
    return totalsOf(doc);
  }

  /** Give holds back. */
  async release(key: string, holdKeys: string[]): Promise<void> {
    if (holdKeys.length === 0) return;
    await this.store.update(
      this.store.usage,
      key,
      holdKeys.map((path) => ({ type: 'remove' as const, path })),
    );
  }

  /**
   * Turn hold `ns` into its charge, in one update: the hold goes, the charge (if any) becomes a
   * key. `applied` is true for the write that found the hold. A write that found neither the hold
   * nor the charge came after the charge was folded (its writer stalled for longer than the fold
   * delay): it created a second charge, which it removes again.
   */
  async settle(key: string, ns: string, charge: Amount): Promise<{ applied: boolean; after: Totals; doc: Doc }> {
    const charged = charge.u !== 0 || charge.t !== 0;
    const { old, doc } = await this.store.update(this.store.usage, key, [
      { type: 'remove', path: holdKey(ns) },
      ...(charged ? [{ type: 'set' as const, path: chargeKey(ns), value: charge }] : []),
    ]);
    const applied = old !== null && Object.hasOwn(old, holdKey(ns));
    if (charged && !applied && !(old && Object.hasOwn(old, chargeKey(ns)))) {
      const undone = await this.store.update(this.store.usage, key, [{ type: 'remove', path: chargeKey(ns) }]);
      return { applied, after: totalsOf(undone.doc), doc: undone.doc };
    }
    return { applied, after: totalsOf(doc), doc };
  }

  /**
   * Fold charges older than `minAge` into the totals, so a counter does not grow with every call.
   * Each charge is claimed first (`increment` of its fold key; the claimant sees 1) and folded by
   * its claimant alone, in one update that removes it and adds it to the totals. A claimant that
   * dies in between leaves the charge unfolded: still counted, never counted twice.
   */
  async fold(key: string, now: number, minAge: number): Promise<number> {
    const doc = await this.get(key);
    if (!doc) return 0;
    const due = Object.entries(doc)
      .filter(
        ([k, v]) => k.startsWith('c~') && !Object.hasOwn(doc, `f~${k.slice(2)}`) && now - amountOf(v)!.at >= minAge,
      )
      .map(([k]) => k.slice(2));
    if (due.length === 0) return 0;
    const claimed = await this.store.update(
      this.store.usage,
      key,
      due.map((ns) => ({ type: 'increment' as const, path: foldKey(ns), by: 1 })),
    );
    const won = due.filter((ns) => claimed.doc[foldKey(ns)] === 1);
    const mine = won.filter((ns) => Object.hasOwn(claimed.doc, chargeKey(ns)));
    // A claim won on a charge already folded (by a folder that read before us): drop the claim.
    const stale = won.filter((ns) => !mine.includes(ns)).map((ns) => ({ type: 'remove' as const, path: foldKey(ns) }));
    if (mine.length === 0) {
      if (stale.length) await this.store.update(this.store.usage, key, stale);
      return 0;
    }
    let u = 0;
    let t = 0;
    for (const ns of mine) {
      const amount = amountOf(claimed.doc[chargeKey(ns)])!;
      u += amount.u;
      t += amount.t;
    }
    await this.store.update(this.store.usage, key, [
      ...stale,
      ...mine.flatMap((ns) => [
        { type: 'remove' as const, path: chargeKey(ns) },
        { type: 'remove' as const, path: foldKey(ns) },
      ]),
      { type: 'increment', path: 'spent_micro_usd', by: u },
      { type: 'increment', path: 'spent_tokens', by: t },
    ]);
    return mine.length;
  }

  /** Claim an alert (once per counter): true for exactly one caller, ever. */
  async claimAlert(key: string, marker: string, now: number): Promise<boolean> {
    const { doc } = await this.store.update(this.store.usage, key, [
      { type: 'increment', path: `alert~${marker}`, by: 1 },
      { type: 'set', path: `alerted_at~${marker}`, value: now },
    ]);
    return doc[`alert~${marker}`] === 1;
  }

  async markAlertSent(key: string, marker: string): Promise<void> {
    await this.store.update(this.store.usage, key, [{ type: 'set', path: `sent~${marker}`, value: 1 }]);
  }
}
