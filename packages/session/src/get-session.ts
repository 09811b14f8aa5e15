import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import { toSessionInfo } from './records.js';
import type { SessionStore } from './store.js';

export const getSession = (store: SessionStore) =>
  (async ({ session_id }) => {
    return { session: toSessionInfo(await store.requireMeta(session_id)) };
  }) satisfies Handler<typeof contracts.session.get>;
