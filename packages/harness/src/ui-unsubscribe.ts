import { defineFunction } from '@iii-harness/runtime';
import { z } from 'zod';
import { clientId, sessionId, subscriptionResult } from './ui-subscribe.js';
import type { UiSubscriptions } from './ui-subscriptions.js';

export const uiUnsubscribe = (subscriptions: UiSubscriptions) =>
  defineFunction({
    id: 'ui::unsubscribe',
    description: 'Stop following a session (session_id null = the "every session" subscription; omitted = everything)',
    input: z.object({ client_id: clientId, session_id: sessionId.nullable().optional() }).strict(),
    output: subscriptionResult,
    async handler({ client_id, session_id }, { logger }) {
      const view = await subscriptions.unsubscribe(client_id, session_id);
      logger.info({ client_id, session_id }, 'UI client unsubscribed');
      return { ok: true as const, subscriptions: view };
    },
  });
