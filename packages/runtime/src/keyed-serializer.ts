/**
 * Runs work one at a time per key inside this process (different keys run side by side): the
 * second `run` for a key starts when the first settled, whatever its outcome. For handlers whose
 * check-then-write must not interleave with themselves (one start per session, one send per
 * idempotency key); across processes the data itself must decide.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const run = (this.tails.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    this.tails.set(key, run);
    return run.finally(() => {
      if (this.tails.get(key) === run) this.tails.delete(key);
    });
  }

  /** Keys with work queued or running (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
