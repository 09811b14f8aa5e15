import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '@iii-harness/runtime';
import { type PolicyChange, policyChange } from './policy-diff.js';
import { type CompiledPolicy, parsePolicy } from './policy-rules.js';

export interface PolicyLoaderOptions {
  path: string;
  /** Quiet period after a change notice before the file is looked at. */
  debounceMs: number;
  /** The file must keep its size, mtime and inode this long, across the read, before it is loaded. */
  settleMs: number;
  pollMs: number;
  logger: Logger;
}

/** `~/x` → the home directory; relative paths from the working directory. */
export function resolvePolicyPath(path: string): string {
  return resolve(path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Identity of one version of the file: a write or a rename changes it. */
async function stampOf(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/**
 * Keeps the last good policy of one rules file and follows its edits. Editors replace files by
 * rename, so the directory is watched (not the file), changes are debounced, and a periodic stat
 * catches what the watcher misses (network filesystems, a directory created later).
 *
 * A file is loaded only once it has stopped changing: its stamp (inode, size, mtime, ctime) is
 * the same before the read and `settleMs` after it. A file being written in place — which may
 * parse as a valid, looser policy while cut off inside a rule — is therefore never loaded half
 * way; a rename into place settles at once. An invalid edit, or a deleted file, keeps the last
 * good policy; until one was ever loaded, `current()` is null and every call is denied. A reload
 * that widens what agents may do is logged at `warn` with the rules that did it.
 */
export class PolicyLoader {
  readonly path: string;
  private policy: CompiledPolicy | null = null;
  private lastDigest?: string;
  private lastStamp?: string;
  private lastProblem?: string;
  private watcher?: FSWatcher;
  private poller?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private again = false;
  private closed = false;

  constructor(private readonly options: PolicyLoaderOptions) {
    this.path = resolvePolicyPath(options.path);
  }

  current(): CompiledPolicy | null {
    return this.policy;
  }

  /** Load the file once it is settled, then follow changes until `close()`. */
  async start(): Promise<void> {
    this.watchDirectory();
    this.poller = setInterval(() => void this.poll(), this.options.pollMs);
    this.poller.unref();
    await this.reload();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.poller);
    clearTimeout(this.debounce);
  }

  /** Look at the file now (one look at a time; a change meanwhile makes another). */
  reload(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    this.checking = (async () => {
      do {
        this.again = false;
        await this.loadWhenSettled();
      } while (this.again && !this.closed);
    })().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async loadWhenSettled(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const before = await stampOf(this.path);
      let text: string;
      try {
        text = await readFile(this.path, 'utf8');
      } catch (error) {
        this.lastStamp = before;
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        this.reject(`cannot read ${this.path}: ${code}`);
        return;
      }
      await sleep(this.options.settleMs);
      const after = await stampOf(this.path);
      this.lastStamp = after;
      if (before !== undefined && before === after) return this.apply(text);
      this.options.logger.debug({ path: this.path }, 'permissions file still changing; waiting for it to settle');
    }
  }

  private apply(text: string): void {
    const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
    if (digest === this.lastDigest) return;
    this.lastDigest = digest;
    let next: CompiledPolicy;
    try {
      next = parsePolicy(text);
    } catch (error) {
      this.reject(`invalid permissions file ${this.path}: ${(error as Error).message}`);
      return;
    }
    const change = policyChange(this.policy, next);
    this.policy = next;
    this.lastProblem = undefined;
    this.logLoaded(change, digest);
  }

  private logLoaded(change: PolicyChange, digest: string): void {
    const details = { path: this.path, rules: this.policy!.rules.length, digest };
    if (change.widens)
      this.options.logger.warn(
        {
          ...details,
          added_allows: change.addedAllows,
          removed_denies: change.removedDenies,
          reordered: change.reordered,
        },
        'permissions policy loaded; it WIDENS what agents may call',
      );
    else
      this.options.logger.info(
        { ...details, added: change.added.length, removed: change.removed.length },
        'permissions policy loaded',
      );
  }

  private reject(problem: string): void {
    if (problem === this.lastProblem) return;
    this.lastProblem = problem;
    if (this.policy)
      this.options.logger.error(
        { path: this.path, problem },
        'permissions file rejected; keeping the last good policy',
      );
    else this.options.logger.error({ path: this.path, problem }, 'no valid permissions policy; denying every call');
    // A read failure says nothing about the content: read it again when the file comes back.
    if (problem.startsWith('cannot read')) this.lastDigest = undefined;
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), this.options.debounceMs);
    this.debounce.unref();
  }

  private async poll(): Promise<void> {
    if ((await stampOf(this.path)) !== this.lastStamp) this.schedule();
    if (!this.watcher) this.watchDirectory();
  }

  private watchDirectory(): void {
    if (this.closed) return;
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), (_event, file) => {
        if (file === null || file.toString() === name) this.schedule();
      });
      this.watcher.on('error', (error) => {
        this.options.logger.warn(
          { err: error, path: this.path },
          'watching the permissions directory failed; polling instead',
        );
        this.watcher?.close();
        this.watcher = undefined;
      });
      this.watcher.unref();
    } catch {
      this.watcher = undefined; // the directory does not exist (yet); the poller retries
    }
  }
}
