import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import { mapLimit, type SessionStore } from './store.js';

const keyOf = (value: unknown, field: string): string | undefined => {
  const key = (value as Record<string, unknown> | null)?.[field];
  return typeof key === 'string' ? key : undefined;
};

export const deleteSession = (store: SessionStore) =>
  (async ({ session_id }, { logger }) => {
    const meta = await store.requireMeta(session_id);
    // The record goes first: from here on the session does not exist for any reader.
    await store.bus.state.delete(store.config.meta_scope, session_id);
    store.hints.forget(session_id);
    const deleteAll = async (scope: string, field: string) => {
      const keys = (await store.bus.state.list(scope))
        .map((value) => keyOf(value, field))
        .filter((key): key is string => key !== undefined);
      await mapLimit(keys, store.config.write_concurrency, (key) => store.bus.state.delete(scope, key));
      return keys.length;
    };
    const deleted_entries = await deleteAll(store.entriesScope(session_id), 'id');
    await deleteAll(store.inboxScope(session_id), 'name');
    await store.publish(logger, { type: 'session_deleted', session_id }, meta.seq + 1);
    return { session_id, deleted_entries };
  }) satisfies Handler<typeof contracts.session.delete>;
