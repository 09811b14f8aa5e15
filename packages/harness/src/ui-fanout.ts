import { type Bus, type Handler, HarnessError, type Logger } from '@iii-harness/runtime';
import { contracts, type StreamTriggerEvent, type UiRelayMessage, uiPushFunctionId } from '@iii-harness/types';
import type { LocalClients } from './ui-locals.js';
import type { UiSubscriptions } from './ui-subscriptions.js';

interface Push {
  session_id: string;
  event: unknown;
}

export interface FanoutOptions {
  timeoutMs: number;
  maxPending: number;
  /** This copy of the harness, as the origin of what it relays. */
  origin: string;
  /** Hand an event to the copies on other engines (pub/sub). */
  relay: (message: UiRelayMessage) => Promise<void>;
  /** Pause before checking whether a client whose connection dropped mid-push is still registered. */
  probeDelayMs?: number;
}

/**
 * Pushes `agent::events` items to the clients that follow their session.
 *
 * Several engines: the stream trigger fires on the engine where the event was written, and a
 * client's push function lives on the engine it is connected to. So this copy pushes to the
 * followers that are clients of its own engine, and when some followers are not, it relays the
 * event once on the relay topic; every other copy pushes it to its own engine's followers.
 *
 * Order: events are taken in the order their trigger (or relay) calls arrive (one intake chain),
 * and each client has one queue sent one push at a time, each awaited. So a client sees a
 * session's events in arrival order, and a slow client delays only itself. (The dev engine fires
 * stream triggers in write order; an engine that fans out concurrently, or pub/sub between
 * engines, can reorder arrivals, which is why every agent event carries its per-session `seq`.)
 *
 * A push the engine cannot route (`not_found`: the client's function is gone from this engine)
 * evicts the client, and so does a push cut off by a dropped connection (`unavailable`) when, a
 * moment later, the engine no longer lists the client's function. Only a client of this engine
 * is ever pushed to, so only its own clients are evicted by a copy. A push that times out or fails
 * otherwise is logged and skipped; it is not retried (it may have landed).
 */
export class UiFanout {
  private intake: Promise<void> = Promise.resolve();
  private queues = new Map<string, Push[]>();
  private pumping = new Set<string>();
  private dropped = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly subscriptions: UiSubscriptions,
    private readonly locals: LocalClients,
    private readonly options: FanoutOptions,
    private readonly logger: Logger,
  ) {}

  /** Take one trigger event. Synchronous on purpose: the intake order is the arrival order. */
  accept(trigger: StreamTriggerEvent): void {
    const event = trigger.event.type === 'event' ? trigger.event.event?.data : trigger.event.data;
    if (trigger.event.type === 'delete' || event === undefined) return;
    this.take({ session_id: trigger.groupId, event }, true);
  }

  /** Take an event another copy relayed (its followers here are ours to push to). */
  acceptRelayed(push: Push): void {
    this.take(push, false);
  }

  close(): void {
    this.closed = true;
    this.queues.clear();
  }

  private take(push: Push, relay: boolean): void {
    this.intake = this.intake
      .then(() => this.subscriptions.ready())
      .then(() => this.dispatch(push, relay))
      .catch((error: unknown) => this.logger.error({ err: error }, 'could not fan out an agent event'));
  }

  private dispatch(push: Push, relay: boolean): Promise<void> | undefined {
    if (this.closed) return;
    const followers = this.subscriptions.followers(push.session_id);
    for (const client of followers.filter((c) => this.locals.has(c))) {
      const queue = this.queues.get(client) ?? [];
      if (queue.length >= this.options.maxPending) {
        this.countDrop(client);
        continue;
      }
      queue.push(push);
      this.queues.set(client, queue);
      if (!this.pumping.has(client)) void this.pump(client);
    }
    if (relay && followers.some((c) => !this.locals.has(c)))
      return this.options
        .relay({ kind: 'event', origin: this.options.origin, ...push })
        .catch((error: unknown) =>
          this.logger.warn(
            { err: error, session_id: push.session_id },
            'could not relay an agent event to the other engines',
          ),
        );
  }

  private countDrop(client: string): void {
    const count = (this.dropped.get(client) ?? 0) + 1;
    this.dropped.set(client, count);
    // Once, then every 100: a stuck client must not flood the log.
    if (count === 1 || count % 100 === 0)
      this.logger.warn({ client_id: client, dropped: count }, 'UI client is not keeping up; dropping its events');
  }

  private async pump(client: string): Promise<void> {
    this.pumping.add(client);
    try {
      for (let push = this.queues.get(client)?.shift(); push && !this.closed; push = this.queues.get(client)?.shift()) {
        if (!this.subscriptions.follows(client, push.session_id)) continue; // unsubscribed meanwhile
        if (!(await this.send(client, push))) {
          this.queues.delete(client);
          break;
        }
      }
    } finally {
      this.pumping.delete(client);
      if (!this.queues.get(client)?.length) this.queues.delete(client);
    }
  }

  /** One push; false when the client is gone (and has been evicted). */
  private async send(client: string, push: Push): Promise<boolean> {
    try {
      // The client's own function, chosen at run time (contracts.ui.sessionEvent describes it).
      await this.bus.invoke(uiPushFunctionId(client), push, { timeoutMs: this.options.timeoutMs });
      this.dropped.delete(client);
      return true;
    } catch (error) {
      const code = error instanceof HarnessError ? error.code : 'internal';
      if (code !== 'not_found') {
        this.logger.warn({ client_id: client, session_id: push.session_id, code }, 'push to UI client failed');
        // `unavailable` is a connection that dropped mid-push: look again once the engine has caught up.
        if (code !== 'unavailable' || (await this.stillThere(client))) return true;
      }
      this.logger.info({ client_id: client }, 'UI client has gone away; evicting it');
      this.locals.forget(client);
      await this.subscriptions
        .evict(client)
        .catch((e: unknown) => this.logger.error({ err: e, client_id: client }, 'could not evict UI client'));
      return false;
    }
  }

  private async stillThere(client: string): Promise<boolean> {
    await new Promise((resolve) => setTimeout(resolve, this.options.probeDelayMs ?? 250));
    try {
      await this.bus.call(
        contracts.engine.functionsInfo,
        { function_id: uiPushFunctionId(client) },
        { timeoutMs: this.options.timeoutMs },
      );
      return true;
    } catch (error) {
      if (error instanceof HarnessError && error.code === 'not_found') return false;
      this.logger.warn(
        { client_id: client, err: error },
        'could not check whether a UI client is still there; keeping it',
      );
      return true;
    }
  }
}

export const fanoutAgentEvent = (fanout: UiFanout) =>
  ((trigger) => {
    fanout.accept(trigger);
    return { accepted: true };
  }) satisfies Handler<typeof contracts.harness.uiFanout>;
