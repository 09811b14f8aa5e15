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

/** Version 1 → 2 of the stored value: the record's fields move under the key of the current epoch. */
export function migrateV1(fields: Record<string, unknown>): Record<string, unknown> {
  const { epoch, event_seq, abort, ...body } = fields;
  const current = typeof epoch === 'number' ? epoch : 0;
  return {
    epoch: current,
    ...(event_seq !== undefined ? { event_seq } : {}),
    ...(abort !== undefined ? { abort } : {}),
    [`@${current}`]: migrateV1Body(body),
  };
}
