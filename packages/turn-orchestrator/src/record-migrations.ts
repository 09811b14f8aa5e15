/**
 * One function per step of the turn record's history. Version 1 (no `v`) kept the record's fields
 * at the top of the stored value; version 2 keeps it under the epoch of the delivery that wrote
 * it (store.ts) and names the counters for what they count.
 */

/** Version 1 → 2: `turn_count` counted generations; `continue_pending` meant "the model has news". */
export function migrateV1Body(fields: Record<string, unknown>): Record<string, unknown> {
  const { turn_count, continue_pending, ...rest } = fields;
  return { ...rest, generations: turn_count ?? 0, model_has_news: continue_pending === true };
}
