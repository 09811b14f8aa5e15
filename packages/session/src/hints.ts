import type { Position, StoredMeta } from './records.js';

/**
 * Where each session's leaf was when this process last saw its record (an append's commit, a
 * read), so an append can place its draft without reading the record first. Only a hint: the
 * commit takes the real leaf from its atomic update and the stamp writes the real placement. A
 * stale hint (another copy appended meanwhile) matters only to a reader in the few milliseconds
 * between an append's commit and its stamp, or after a writer died in exactly that window: the
 * draft then hangs under an older entry of the session, and the path skips what came between.
 * Bounded: the least recently noted sessions are forgotten first.
 */
export class LeafHints {
  private readonly leaves = new Map<string, Position | null>();

  constructor(private readonly max: number) {}

  /** The leaf as last seen (null: the session had none), or undefined when not known here. */
  get(sessionId: string): Position | null | undefined {
    return this.leaves.get(sessionId);
  }

  note(meta: Pick<StoredMeta, 'session_id' | 'leaf_id' | 'leaf_depth' | 'leaf_window'>): void {
    if (this.max === 0) return;
    const leaf = meta.leaf_id ? { id: meta.leaf_id, depth: meta.leaf_depth, window_depth: meta.leaf_window } : null;
    this.leaves.delete(meta.session_id);
    this.leaves.set(meta.session_id, leaf);
    if (this.leaves.size > this.max) this.leaves.delete(this.leaves.keys().next().value!);
  }

  forget(sessionId: string): void {
    this.leaves.delete(sessionId);
  }
}
