import { type Handler, HarnessError } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import { toSessionEntry } from './records.js';
import type { SessionStore } from './store.js';

/** One committed entry: an append still in flight is not there yet, as in every other read. */
export const getEntry = (store: SessionStore) =>
  (async ({ session_id, entry_id }) => {
    await store.requireMeta(session_id);
    const entry = await store.getEntry(session_id, entry_id);
    if (!entry?.committed)
      throw new HarnessError('not_found', `entry ${entry_id} does not exist in session ${session_id}`);
    return { entry: toSessionEntry(entry) };
  }) satisfies Handler<typeof contracts.session.getEntry>;
