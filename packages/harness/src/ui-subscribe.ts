import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { Ui } from './ui.js';

export const uiSubscribe = ({ subscriptions, locals }: Ui) =>
  (async ({ client_id, session_id }, { logger }) => {
    // A subscribe comes through the client's own engine: find its push function here first, so
    // the events written once this returns reach it.
    const here = await locals.check(client_id);
    const view = await subscriptions.subscribe(client_id, session_id);
    logger.info({ client_id, session_id, here }, 'UI client subscribed');
    return { ok: true as const, subscriptions: view };
  }) satisfies Handler<typeof contracts.ui.subscribe>;

export const uiUnsubscribe = ({ subscriptions }: Ui) =>
  (async ({ client_id, session_id }, { logger }) => {
    const view = await subscriptions.unsubscribe(client_id, session_id);
    logger.info({ client_id, session_id }, 'UI client unsubscribed');
    return { ok: true as const, subscriptions: view };
  }) satisfies Handler<typeof contracts.ui.unsubscribe>;
