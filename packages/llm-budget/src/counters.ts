import type { Doc } from './store.js';
import { asDoc, type BudgetStore } from './store.js';

/**
 * One budget's usage in one period is one engine state document (a "counter"):
 *
 *   { spent_micro_usd, spent_tokens,          settled spend, only ever increased
 *     "h~<ns>": {u, t, at}, ...               one key per hold: a reservation's worst case
 *     "alert~<metric>~<pct>": n, "alerted_at~…", "sent~…"   alert claims (alerts.ts) }
 *
 * used = spent + Σ holds. Every write is one `state::update`, which the engine applies
 * atomically and answers with the document before and after. The rules that keep `used` from
 * ever dropping below the true figure (the README's atomicity argument):
 *   - a hold is a key, set once; giving it back is `remove`, which does nothing when the key is
 *     already gone, so a duplicate release can never give back twice;
 *   - a settlement removes the hold and adds the spend in the same update; if the hold was
 *     already gone (someone settled first), the added spend is taken back: `used` was briefly
 *     too high, never too low.
 */

export interface Hold {
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

export function holdOf(value: unknown): Hold | undefined {
  const doc = asDoc(value);
  return doc ? { u: num(doc.u), t: num(doc.t), at: num(doc.at) } : undefined;
}

/** Spend and holds of a counter document (an absent one is all zeros). */
export function totalsOf(doc: Doc | null | undefined): Totals {
  const totals: Totals = { spent_micro_usd: 0, spent_tokens: 0, reserved_micro_usd: 0, reserved_tokens: 0 };
  if (!doc) return totals;
  totals.spent_micro_usd = num(doc.spent_micro_usd);
  totals.spent_tokens = num(doc.spent_tokens);
  for (const [key, value] of Object.entries(doc)) {
    if (!key.startsWith('h~')) continue;
    const hold = holdOf(value);
    if (!hold) continue;
    totals.reserved_micro_usd += hold.u;
    totals.reserved_tokens += hold.t;
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
  async hold(key: string, ns: string, hold: Hold): Promise<Totals> {
    const { doc } = await this.store.update(this.store.usage, key, [{ type: 'set', path: holdKey(ns), value: hold }]);
    return totalsOf(doc);
  }

  /** Give holds back (idempotent: removing a missing key changes nothing). */
  async release(key: string, holdKeys: string[]): Promise<void> {
    if (holdKeys.length === 0) return;
    await this.store.update(
      this.store.usage,
      key,
      holdKeys.map((path) => ({ type: 'remove' as const, path })),
    );
  }

  /**
   * Turn hold `ns` into spend. `applied` is false when the hold was already gone (settled by
   * someone else); then the spend added speculatively is taken back and nothing changed.
   */
  async settle(
    key: string,
    ns: string,
    spend: { micro_usd: number; tokens: number },
  ): Promise<{ applied: boolean; before: Totals; after: Totals; doc: Doc }> {
    const { old, doc } = await this.store.update(this.store.usage, key, [
      { type: 'remove', path: holdKey(ns) },
      { type: 'increment', path: 'spent_micro_usd', by: spend.micro_usd },
      { type: 'increment', path: 'spent_tokens', by: spend.tokens },
    ]);
    if (old && Object.hasOwn(old, holdKey(ns)))
      return { applied: true, before: totalsOf(old), after: totalsOf(doc), doc };
    if (spend.micro_usd === 0 && spend.tokens === 0)
      return { applied: false, before: totalsOf(old), after: totalsOf(doc), doc };
    const undone = await this.store.update(this.store.usage, key, [
      { type: 'increment', path: 'spent_micro_usd', by: -spend.micro_usd },
      { type: 'increment', path: 'spent_tokens', by: -spend.tokens },
    ]);
    return { applied: false, before: totalsOf(old), after: totalsOf(undone.doc), doc: undone.doc };
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
