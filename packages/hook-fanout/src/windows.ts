import { type Bus, versionedRecord } from '@iii-harness/runtime';
import { z } from 'zod';

/**
 * Collection windows live in engine state, one record per hook, so a reply counts whichever copy
 * of this worker (on whichever engine) it reaches. A reply is one atomic `append`; the window is
 * closed by one atomic `set closed`; each sees the other in its update's `old_value`, so a reply
 * is accepted exactly when it is among the replies the close returned.
 */

const entry = z.object({ subscriber: z.string().optional(), reply: z.unknown(), at: z.number().optional() });
const windowRecord = z
  .object({
    hook_id: z.string(),
    topic: z.string().optional(),
    expected: z.number().optional(),
    deadline: z.number().optional(),
    opened_at: z.number().optional(),
    closed: z.boolean().optional(),
    replies: z.array(entry).default([]),
  })
  .loose();
/**
 * A window carries a version `v` (set by its publisher; a stray reply's stub has none). One written
 * before the field existed is version 1, today's shape; one of a newer version is refused
 * (`unavailable/unsupported_record_version`) and the sweep leaves it to the newer copies.
 */
const windowVersions = versionedRecord({
  what: 'hook window',
  current: 1,
  unversioned: 1,
  schema: windowRecord,
  migrations: {},
});
export type Reply = { subscriber?: string; reply: unknown };

/** The replies that count, in arrival order: a subscriber's first (a redelivered hook may answer twice). */
export function distinctReplies(record: { replies?: unknown } | null | undefined): Reply[] {
  const parsed = windowRecord.shape.replies.safeParse(record?.replies ?? []);
  const seen = new Set<string>();
  const out: Reply[] = [];
  for (const { subscriber, reply } of parsed.success ? parsed.data : []) {
    if (subscriber !== undefined) {
      if (seen.has(subscriber)) continue;
      seen.add(subscriber);
    }
    out.push({ ...(subscriber !== undefined ? { subscriber } : {}), reply });
  }
  return out;
}

/** A real window: written by its publisher (a stray reply to an unknown hook leaves only a stub). */
const isWindow = (value: Record<string, unknown> | null | undefined) => typeof value?.deadline === 'number';

export class WindowStore {
  constructor(
    private readonly bus: Bus,
    private readonly scope: string,
  ) {}

  async open(window: { hook_id: string; topic: string; expected: number; deadline: number }): Promise<void> {
    await this.bus.state.set(
      this.scope,
      window.hook_id,
      windowVersions.stamp({ ...window, opened_at: Date.now(), replies: [] }),
    );
  }

  async replies(hookId: string): Promise<Reply[]> {
    const value = await this.bus.state.get(this.scope, hookId);
    return value === undefined ? [] : distinctReplies(this.read(hookId, value));
  }

  private read(hookId: string, value: unknown) {
    return windowVersions.read(value, `${this.scope}/${hookId}`);
  }

  /** Add a reply; true when its window was open (so the reply is among what the close returns). */
  async addReply(hookId: string, reply: Reply): Promise<boolean> {
    const { old_value } = await this.bus.state.update<Record<string, unknown>>(this.scope, hookId, [
      { type: 'append', path: 'replies', value: { ...reply, at: Date.now() } },
      // A stray reply's stub carries its id, so the sweep can find and remove it.
      { type: 'set', path: 'hook_id', value: hookId },
    ]);
    if (!isWindow(old_value)) {
      await this.bus.state.delete(this.scope, hookId).catch(() => undefined);
      return false;
    }
    return this.read(hookId, old_value).closed !== true;
  }

  /** Close the window: every reply added before this is in the answer, none after. */
  async close(hookId: string): Promise<Reply[]> {
    const { new_value } = await this.bus.state.update<Record<string, unknown>>(this.scope, hookId, [
      { type: 'set', path: 'closed', value: true },
    ]);
    // A window swept away meanwhile leaves only the fragment this update created: no replies.
    return distinctReplies(isWindow(new_value) ? this.read(hookId, new_value) : new_value);
  }

  async remove(hookId: string): Promise<void> {
    await this.bus.state.delete(this.scope, hookId);
  }

  /** Remove windows (and stubs) opened before `cutoff`; returns how many. */
  async removeOlderThan(cutoff: number): Promise<number> {
    let removed = 0;
    for (const value of await this.bus.state.list(this.scope)) {
      let parsed: z.output<typeof windowRecord>;
      try {
        parsed = windowVersions.read(value, this.scope);
      } catch {
        continue; // malformed, or a newer copy's window: not this copy's to judge
      }
      const { hook_id, opened_at, replies } = parsed;
      const since = opened_at ?? Math.min(...replies.map((r) => r.at ?? 0));
      if (since < cutoff) {
        await this.bus.state.delete(this.scope, hook_id);
        removed++;
      }
    }
    return removed;
  }
}

/**
 * The windows this process waits on, to be woken when a reply lands: at once when it lands on
 * this copy, through pub/sub when it lands on another. Wake-ups only; the replies are in state.
 */
export class Waiters {
  private readonly open = new Map<string, { woken: boolean; wake?: () => void }>();

  start(hookId: string): void {
    this.open.set(hookId, { woken: false });
  }

  /** False when this process is not waiting on the hook. */
  wake(hookId: string): boolean {
    const waiter = this.open.get(hookId);
    if (!waiter) return false;
    waiter.woken = true;
    waiter.wake?.();
    return true;
  }

  /** Resolve at the next wake-up (one that came since the last call counts), or after `ms`. */
  async next(hookId: string, ms: number): Promise<void> {
    const waiter = this.open.get(hookId);
    if (!waiter) return;
    if (!waiter.woken)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        waiter.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    waiter.wake = undefined;
    waiter.woken = false;
  }

  stop(hookId: string): void {
    this.open.get(hookId)?.wake?.();
    this.open.delete(hookId);
  }

  get size(): number {
    return this.open.size;
  }
}
