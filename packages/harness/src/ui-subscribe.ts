import { defineFunction } from '@iii-harness/runtime';
import { z } from 'zod';
import { subscriptionView, type UiSubscriptions } from './ui-subscriptions.js';

/** A client id becomes part of a function id (`ui::session::event::<client_id>`), so it is kept plain. */
export const clientId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a client_id is 1-128 letters, digits, "_", "." or "-"');
export const sessionId = z.string().min(1).max(256);

export const subscriptionResult = z.object({ ok: z.literal(true), subscriptions: subscriptionView });

export const uiSubscribe = (subscriptions: UiSubscriptions) =>
  defineFunction({
    id: 'ui::subscribe',
    description:
      "Follow a session's agent events (session_id null = every session); they are pushed to the client's ui::session::event::<client_id>",
    input: z.object({ client_id: clientId, session_id: sessionId.nullable() }).strict(),
    output: subscriptionResult,
    async handler({ client_id, session_id }, { logger }) {
      const view = await subscriptions.subscribe(client_id, session_id);
      logger.info({ client_id, session_id }, 'UI client subscribed');
      return { ok: true as const, subscriptions: view };
    },
  });
