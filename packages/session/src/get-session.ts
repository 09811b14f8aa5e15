import { defineFunction } from '@iii-harness/runtime';
import { sessionId, sessionInfo } from '@iii-harness/types';
import { z } from 'zod';
import { toSessionInfo } from './records.js';
import type { SessionStore } from './store.js';

export const getSession = (store: SessionStore) =>
  defineFunction({
    id: 'session::get',
    description: 'One session: its leaf, entry count and last sequence number; not_found when absent',
    input: z.object({ session_id: sessionId }).strict(),
    output: z.object({ session: sessionInfo }),
    async handler({ session_id }) {
      return { session: toSessionInfo(await store.requireMeta(session_id)) };
    },
  });
