import { createHash } from 'node:crypto';
import { type FSWatcher, readFileSync, statSync, watch } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '@iii-harness/runtime';
import { type CompiledPolicy, parsePolicy } from './policy-rules.js';

export interface PolicyLoaderOptions {
  path: string;
  debounceMs: number;
  pollMs: number;
  logger: Logger;
}

/** `~/x` → the home directory; relative paths from the working directory. */
export function resolvePolicyPath(path: string): string {
  return resolve(path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path);
}

/**
 * Keeps the last good policy of one rules file and follows its edits. Editors replace files by
 * rename, so the directory is watched (not the file), changes are debounced, and a periodic stat
 * catches what the watcher misses (network filesystems, a directory created later). An invalid
 * edit, or a deleted file, keeps the last good policy; until one was ever loaded, `current()` is
 * null and every call is denied.
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

  constructor(private readonly options: PolicyLoaderOptions) {
    this.path = resolvePolicyPath(options.path);
  }

  current(): CompiledPolicy | null {
    return this.policy;
  }

  /** Load now, then follow changes until `close()`. */
  start(): void {
    this.reload();
    this.watchDirectory();
    this.poller = setInterval(() => this.poll(), this.options.pollMs);
    this.poller.unref();
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.poller);
    clearTimeout(this.debounce);
  }

  /** Read and compile the file; keep the last good policy on any failure. */
  reload(): void {
    this.lastStamp = this.stamp();
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      this.reject(`cannot read ${this.path}: ${code}`);
      return;
    }
    const digest = createHash('sha256').update(text).digest('hex').slice(0, 16);
    if (digest === this.lastDigest) return;
    this.lastDigest = digest;
    try {
      this.policy = parsePolicy(text);
    } catch (error) {
      this.reject(`invalid permissions file ${this.path}: ${(error as Error).message}`);
      return;
    }
    this.lastProblem = undefined;
    this.options.logger.info({ path: this.path, rules: this.policy.rules.length, digest }, 'permissions policy loaded');
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

  private stamp(): string | undefined {
    try {
      const s = statSync(this.path);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch {
      return undefined;
    }
  }

  private schedule(): void {
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.reload(), this.options.debounceMs);
    this.debounce.unref();
  }

  private poll(): void {
    if (this.stamp() !== this.lastStamp) this.schedule();
    if (!this.watcher) this.watchDirectory();
  }

  private watchDirectory(): void {
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
