import { claimScheduledRun, type Handler, type Worker } from '@iii-harness/runtime';
import { contracts, type UiRelayMessage } from '@iii-harness/types';
import type { Config } from './config.js';
import { UiFanout } from './ui-fanout.js';
import { FanoutTrigger } from './ui-fanout-trigger.js';
import { LocalClients } from './ui-locals.js';
import { UiSubscriptions } from './ui-subscriptions.js';

const { harness } = contracts;

/** The UI fan-out's parts, shared by its functions (see register.ts). */
export interface Ui {
  subscriptions: UiSubscriptions;
  locals: LocalClients;
  fanout: UiFanout;
  origin: string;
  /** Read the subscriptions and this engine's clients, then keep them fresh every `ui_refresh_ms`. */
  start(): Promise<void>;
}

/**
 * One copy of the harness per engine: subscriptions are shared engine state; a copy pushes to the
 * clients of its own engine and relays, on `ui_relay_topic`, what the others must push to theirs.
 */
export function createUi(
  worker: Worker<Config>,
  /** Test seams: the id of the fan-out function, and which clients of the engine count as here. */
  { fanoutId = harness.uiFanout.id, isHere }: { fanoutId?: string; isHere?: (clientId: string) => boolean } = {},
): Ui {
  const { config, bus } = worker;
  const logger = worker.logger.child({ component: 'ui' });
  const origin = worker.instanceId;
  const relay = (message: UiRelayMessage) => bus.publish(config.ui_relay_topic, message);
  const trigger = new FanoutTrigger(bus, () =>
    worker.trigger({
      type: 'stream',
      function_id: fanoutId,
      config: { stream_name: config.agent_events_stream },
    }),
  );
  const subscriptions = new UiSubscriptions(
    bus,
    config.ui_scope,
    logger,
    (anyone) => trigger.set(anyone),
    (clientId) => relay({ kind: 'subscription', origin, client_id: clientId }),
  );
  const locals = new LocalClients(bus, isHere);
  const fanout = new UiFanout(
    bus,
    subscriptions,
    locals,
    { timeoutMs: config.ui_push_timeout_ms, maxPending: config.ui_max_pending, origin, relay },
    logger,
  );

  const upkeep = async () => {
    await locals.refresh();
    await subscriptions.reload();
    await subscriptions.touch(locals.all, config.ui_client_ttl_ms / 4);
  };
  let timer: NodeJS.Timeout | undefined;
  worker.onShutdown(() => {
    clearInterval(timer);
    fanout.close();
  });

  return {
    subscriptions,
    locals,
    fanout,
    origin,
    async start() {
      // Clients that followed sessions before a restart are served again at once.
      await upkeep().catch(async (error: unknown) => {
        logger.warn(
          { err: error },
          'could not read the UI subscriptions; fanning out every event until they can be read',
        );
        await trigger.set(true);
      });
      timer = setInterval(
        () =>
          void upkeep().catch((error: unknown) =>
            logger.warn({ err: error }, 'could not refresh the UI subscriptions'),
          ),
        config.ui_refresh_ms,
      );
      timer.unref();
    },
  };
}

/** What another copy relayed: an event for the clients of this engine, or a changed subscription. */
export const relayed = ({ fanout, subscriptions, origin }: Ui) =>
  (async (message) => {
    if (message.origin === origin) return { accepted: false };
    if (message.kind === 'event') fanout.acceptRelayed({ session_id: message.session_id, event: message.event });
    else await subscriptions.refresh(message.client_id);
    return { accepted: true };
  }) satisfies Handler<typeof contracts.harness.uiRelay>;

/** Forget clients no copy has seen on its engine for `ui_client_ttl_ms` (one copy per scheduled run). */
export const sweepUiClients = ({ subscriptions }: Ui, config: Config) =>
  (async (input, { bus, logger }) => {
    if (!(await claimScheduledRun(bus, harness.uiSweep.id, input))) return { removed: 0, skipped: true };
    const removed = await subscriptions.removeUnseenSince(Date.now() - config.ui_client_ttl_ms);
    if (removed.length) logger.info({ clients: removed }, 'forgot UI clients nobody has seen');
    return { removed: removed.length };
  }) satisfies Handler<typeof contracts.harness.uiSweep>;
