import type { Bus, Logger } from '@iii-harness/runtime';
import { type UiSubscriptionView as SubscriptionView, uiSubscriptionView } from '@iii-harness/types';
import { z } from 'zod';

const storedSubscription = uiSubscriptionView.extend({ client_id: z.string(), updated_at: z.number().int() });

interface Follows {
  all: boolean;
  sessions: Set<string>;
}

const view = (follows: Follows | undefined): SubscriptionView => ({
  all: follows?.all ?? false,
  session_ids: [...(follows?.sessions ?? [])].sort(),
});

/**
 * Who follows which sessions. Engine state (one key per client) is the record, so subscriptions
 * survive a harness restart; an in-memory copy answers the fan-out without a round trip per
 * event. This worker is the only writer of its scope, and changes are applied one at a time, so
 * the copy and the record cannot drift: memory changes only after the write succeeded.
 */
export class UiSubscriptions {
  private clients = new Map<string, Follows>();
  private loading?: Promise<void>;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly bus: Bus,
    private readonly scope: string,
    private readonly logger: Logger,
    /** Told, once the record says so, whether any client follows anything (and awaited). */
    private readonly onFollowing: (anyone: boolean) => Promise<void> = async () => undefined,
  ) {}

  /** Resolves once the record has been read (once; retried after a failure). */
  ready(): Promise<void> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  /** Clients following a session, directly or through `all` (call after `ready()`). */
  followers(sessionId: string): string[] {
    return [...this.clients].filter(([, f]) => f.all || f.sessions.has(sessionId)).map(([client]) => client);
  }

  follows(clientId: string, sessionId: string): boolean {
    const f = this.clients.get(clientId);
    return f !== undefined && (f.all || f.sessions.has(sessionId));
  }

  subscribe(clientId: string, sessionId: string | null): Promise<SubscriptionView> {
    return this.change(clientId, (f) => {
      if (sessionId === null) f.all = true;
      else f.sessions.add(sessionId);
    });
  }

  /** `undefined` drops everything the client follows; `null` drops "all sessions"; a string drops that session. */
  unsubscribe(clientId: string, sessionId: string | null | undefined): Promise<SubscriptionView> {
    return this.change(clientId, (f) => {
      if (sessionId === undefined) {
        f.all = false;
        f.sessions.clear();
      } else if (sessionId === null) f.all = false;
      else f.sessions.delete(sessionId);
    });
  }

  /** Forget a client that has gone away. */
  async evict(clientId: string): Promise<void> {
    await this.unsubscribe(clientId, undefined);
  }

  private async load(): Promise<void> {
    const stored = await this.bus.state.list(this.scope);
    for (const value of stored) {
      const parsed = storedSubscription.safeParse(value);
      if (!parsed.success) {
        this.logger.warn(
          { scope: this.scope, problem: parsed.error.issues[0]?.message },
          'ignoring a malformed UI subscription record',
        );
        continue;
      }
      this.clients.set(parsed.data.client_id, { all: parsed.data.all, sessions: new Set(parsed.data.session_ids) });
    }
    await this.onFollowing(this.clients.size > 0);
  }

  private change(clientId: string, edit: (follows: Follows) => void): Promise<SubscriptionView> {
    const run = async (): Promise<SubscriptionView> => {
      await this.ready();
      const current = this.clients.get(clientId);
      const next: Follows = { all: current?.all ?? false, sessions: new Set(current?.sessions) };
      edit(next);
      if (!next.all && next.sessions.size === 0) {
        if (current) await this.bus.state.delete(this.scope, clientId);
        this.clients.delete(clientId);
      } else {
        await this.bus.state.set(this.scope, clientId, { client_id: clientId, ...view(next), updated_at: Date.now() });
        this.clients.set(clientId, next);
      }
      await this.onFollowing(this.clients.size > 0);
      return view(next);
    };
    const result = this.writes.then(run, run);
    this.writes = result.catch(() => undefined);
    return result;
  }
}
