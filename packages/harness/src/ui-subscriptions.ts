import { type Bus, HarnessError, type Logger, versionedRecord } from '@iii-harness/runtime';
import { type UiSubscriptionView as SubscriptionView, uiSubscriptionView } from '@iii-harness/types';
import { z } from 'zod';

const storedSubscription = uiSubscriptionView.extend({
  client_id: z.string(),
  updated_at: z.number().int(),
  /** Last time a copy of the harness found the client's push function on its engine. */
  seen_at: z.number().int().optional(),
});
type StoredSubscription = z.output<typeof storedSubscription>;
/** Version 1 is today's shape, also of records written before they carried `v`. */
const subscriptionVersions = versionedRecord({
  what: 'UI subscription',
  current: 1,
  unversioned: 1,
  schema: storedSubscription,
  migrations: {},
});
const isNewerVersion = (error: unknown) =>
  error instanceof HarnessError && error.reason === 'unsupported_record_version';

interface Follows {
  all: boolean;
  sessions: Set<string>;
  seenAt: number;
}

const view = (follows: Follows | undefined): SubscriptionView => ({
  all: follows?.all ?? false,
  session_ids: [...(follows?.sessions ?? [])].sort(),
});

/**
 * Who follows which sessions, across every client of every engine. Engine state (one key per
 * client) is the record, shared by all copies of the harness; this is a cache of it for the
 * fan-out, updated at once by this copy's own changes, by the others' through `refresh(client)`
 * (they announce them on the relay topic), and reloaded whole every `ui_refresh_ms` in case an
 * announcement was lost. A change reads the record fresh, so it builds on what any copy wrote.
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
    /** Told after this copy changed a client's subscriptions (to tell the other copies). */
    private readonly onChanged: (clientId: string) => Promise<void> = async () => undefined,
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

  /** Read the whole record again (after this copy's changes in flight, so none is undone). */
  reload(): Promise<void> {
    return this.serial(() => this.load());
  }

  private async load(): Promise<void> {
    const next = new Map<string, Follows>();
    for (const value of await this.bus.state.list(this.scope)) {
      const parsed = this.parse(value, 'skip');
      if (parsed) next.set(parsed.client_id, this.followsOf(parsed));
    }
    this.clients = next;
    await this.onFollowing(this.clients.size > 0);
  }

  /** Read one client's record again (another copy changed it). */
  refresh(clientId: string): Promise<void> {
    return this.serial(async () => {
      await this.ready();
      const stored = this.parse(await this.bus.state.get(this.scope, clientId));
      if (stored) this.clients.set(clientId, this.followsOf(stored));
      else this.clients.delete(clientId);
      await this.onFollowing(this.clients.size > 0);
    });
  }

  /** Mark clients as seen (their push function is on this copy's engine), at most every `everyMs`. */
  async touch(clientIds: Iterable<string>, everyMs: number): Promise<void> {
    const now = Date.now();
    for (const clientId of clientIds) {
      const follows = this.clients.get(clientId);
      if (!follows || now - follows.seenAt < everyMs) continue;
      follows.seenAt = now;
      // Only the one field: a concurrent change of the follow list is not overwritten.
      const { old_value } = await this.bus.state.update<StoredSubscription>(this.scope, clientId, [
        { type: 'set', path: 'seen_at', value: now },
      ]);
      // The client unsubscribed meanwhile: do not leave a record of the touch behind.
      if (old_value == null) await this.bus.state.delete(this.scope, clientId);
    }
  }

  /** Forget clients nobody has seen since `cutoff` (read fresh, so one seen meanwhile stays); returns them. */
  async removeUnseenSince(cutoff: number): Promise<string[]> {
    const removed: string[] = [];
    for (const value of await this.bus.state.list(this.scope)) {
      const listed = this.parse(value, 'skip');
      if (!listed || (listed.seen_at ?? listed.updated_at) >= cutoff) continue;
      const gone = await this.serial(async () => {
        const stored = this.parse(await this.bus.state.get(this.scope, listed.client_id));
        if (!stored || (stored.seen_at ?? stored.updated_at) >= cutoff) return false;
        await this.bus.state.delete(this.scope, stored.client_id);
        this.clients.delete(stored.client_id);
        return true;
      });
      if (gone) {
        removed.push(listed.client_id);
        await this.onChanged(listed.client_id).catch(() => undefined);
      }
    }
    if (removed.length) await this.onFollowing(this.clients.size > 0);
    return removed;
  }

  /**
   * A stored record in the current shape; a malformed one is ignored (and logged). One of a newer
   * version is refused where this copy would write it (`refuse`: never overwrite what a newer
   * harness stored), and left out of a whole-scope read (`skip`).
   */
  private parse(value: unknown, newer: 'refuse' | 'skip' = 'refuse'): StoredSubscription | undefined {
    if (value === undefined || value === null) return undefined;
    try {
      const { v: _v, ...record } = subscriptionVersions.read(value, this.scope);
      return record;
    } catch (error) {
      if (isNewerVersion(error) && newer === 'refuse') throw error;
      this.logger.warn({ scope: this.scope, problem: (error as Error).message }, 'ignoring a UI subscription record');
      return undefined;
    }
  }

  private followsOf(stored: StoredSubscription): Follows {
    return { all: stored.all, sessions: new Set(stored.session_ids), seenAt: stored.seen_at ?? stored.updated_at };
  }

  private change(clientId: string, edit: (follows: Follows) => void): Promise<SubscriptionView> {
    return this.serial(async () => {
      await this.ready();
      const stored = this.parse(await this.bus.state.get(this.scope, clientId));
      const next: Follows = {
        all: stored?.all ?? false,
        sessions: new Set(stored?.session_ids),
        seenAt: Date.now(),
      };
      edit(next);
      if (!next.all && next.sessions.size === 0) {
        if (stored) await this.bus.state.delete(this.scope, clientId);
        this.clients.delete(clientId);
      } else {
        const now = Date.now();
        await this.bus.state.set(
          this.scope,
          clientId,
          subscriptionVersions.stamp({ client_id: clientId, ...view(next), updated_at: now, seen_at: now }),
        );
        this.clients.set(clientId, next);
      }
      await this.onFollowing(this.clients.size > 0);
      await this.onChanged(clientId).catch((error: unknown) =>
        this.logger.warn({ err: error, client_id: clientId }, 'could not tell the other copies of a UI subscription'),
      );
      return view(next);
    });
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.writes.then(work, work);
    this.writes = result.catch(() => undefined);
    return result;
  }
}
