import type { Handler } from '@iii-harness/runtime';
import type { contracts } from '@iii-harness/types';
import type { UiSubscriptions } from './ui-subscriptions.js';

export const uiSubscribe = (subscriptions: UiSubscriptions) =>
  (async ({ client_id, session_id }, { logger }) => {
    const view = await subscriptions.subscribe(client_id, session_id);
    logger.info({ client_id, session_id }, 'UI client subscribed');
    return { ok: true as const, subscriptions: view };
  }) satisfies Handler<typeof contracts.ui.subscribe>;

export const uiUnsubscribe = (subscriptions: UiSubscriptions) =>
  (async ({ client_id, session_id }, { logger }) => {
    const view = await subscriptions.unsubscribe(client_id, session_id);
    logger.info({ client_id, session_id }, 'UI client unsubscribed');
    return { ok: true as const, subscriptions: view };
  }) satisfies Handler<typeof contracts.ui.unsubscribe>;
