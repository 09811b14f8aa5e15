import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { SessionStore } from './store.js';

export const setLeaf = (store: SessionStore) =>
  (async ({ session_id, entry_id }, { logger }) => {
    const meta = await store.requireMeta(session_id);
    const target = entry_id === null ? null : await store.requireEntry(session_id, entry_id);
    const current = meta.leaf_id ?? null;
    if (current === entry_id) return { session_id, leaf_id: entry_id, previous_leaf_id: current, changed: false };
    const { before, seq } = await store.advance(session_id, [
      { type: 'set', path: 'leaf_id', value: entry_id },
      { type: 'set', path: 'leaf_depth', value: target?.depth ?? -1 },
      { type: 'set', path: 'leaf_window', value: target?.window_depth ?? 0 },
    ]);
    const previous_leaf_id = before.leaf_id ?? null;
    await store.publish(logger, { type: 'leaf_changed', session_id, leaf_id: entry_id, previous_leaf_id }, seq);
    return { session_id, leaf_id: entry_id, previous_leaf_id, changed: true };
  }) satisfies Handler<typeof contracts.session.setLeaf>;
