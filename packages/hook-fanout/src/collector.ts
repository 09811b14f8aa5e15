/** Replies of one published hook, and whoever waits for them. */
interface Pending {
  replies: Array<{ subscriber?: string; reply: unknown }>;
  expected: number;
  settle: () => void;
}

/**
 * The open collection windows of this worker. A reply to a hook whose window has closed (or that
 * this process never published) is refused, so a late reply never changes a decision already made.
 */
export class ReplyCollector {
  private readonly open = new Map<string, Pending>();

  /** Open a window; resolves with the replies once `expected` arrived or `timeoutMs` passed. */
  collect(
    hookId: string,
    expected: number,
    timeoutMs: number,
  ): { done: Promise<{ replies: Pending['replies']; timedOut: boolean }> } {
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const pending: Pending = { replies: [], expected, settle };
    this.open.set(hookId, pending);
    const done = (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        settled.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      this.open.delete(hookId);
      return { replies: pending.replies, timedOut };
    })();
    return { done };
  }

  /** Record a reply; false when no window is open for this hook. */
  reply(hookId: string, reply: unknown, subscriber?: string): boolean {
    const pending = this.open.get(hookId);
    if (!pending) return false;
    pending.replies.push({ ...(subscriber ? { subscriber } : {}), reply });
    if (pending.replies.length >= pending.expected) pending.settle();
    return true;
  }

  /** Close a window early (its publish failed); its `done` resolves with what arrived. */
  cancel(hookId: string): void {
    this.open.get(hookId)?.settle();
    this.open.delete(hookId);
  }

  get size(): number {
    return this.open.size;
  }
}
