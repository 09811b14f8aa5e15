import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { HarnessError, registerSecret } from '@iii-harness/runtime';
import {
  ensureDirectory,
  type PrivateFile,
  readPrivateFile,
  removeStaleTemps,
  withFileLock,
  writeFileAtomic,
} from './atomic-file.js';
import { type CredentialKey, VaultCipher } from './encryption.js';
import { type DecodedFile, decodeFile, encodeFile, type Providers, type StoredCredential } from './file-format.js';

export interface CredentialStoreOptions {
  /** The credentials file; a leading `~/` means the user's home directory. */
  path: string;
  /** Seal the file with AES-256-GCM under this key (see `parseCredentialKey`). */
  key?: CredentialKey;
  /** Where warnings about permissions or a plaintext file go (they never carry a secret). */
  warn?: (details: Record<string, unknown>, message: string) => void;
}

export function expandHome(path: string): string {
  return resolve(path === '~' ? homedir() : path.startsWith('~/') ? `${homedir()}${path.slice(1)}` : path);
}

function ioError(action: string, file: string, error: unknown): HarnessError {
  if (error instanceof HarnessError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
  return new HarnessError('unavailable', `cannot ${action} credentials file ${file}: ${code}`, {
    reason: 'credentials_io',
    retryable: false,
  });
}

/**
 * The credentials file. Every write is a read-modify-write of the file as it is on disk, done one
 * at a time in this process (a queue), and lands atomically; so concurrent set/delete calls never
 * lose an update, and a file that cannot be read (corrupt, wrong key, newer version) is never
 * overwritten. Every token that passes through is registered with the logger's secret masking.
 */
export class CredentialStore {
  readonly path: string;
  private readonly cipher?: VaultCipher;
  private readonly warn: NonNullable<CredentialStoreOptions['warn']>;
  private tail: Promise<unknown> = Promise.resolve();
  private cleaned = false;
  private warnedPlaintext = false;
  private warnedDirectory = false;

  constructor(options: CredentialStoreOptions) {
    this.path = expandHome(options.path);
    this.cipher = options.key ? new VaultCipher(options.key) : undefined;
    this.warn = options.warn ?? (() => undefined);
  }

  get encrypted(): boolean {
    return this.cipher !== undefined;
  }

  /** Every stored credential (an empty map when the file does not exist yet). */
  async read(): Promise<Providers> {
    return (await this.load()).providers;
  }

  async get(provider: string): Promise<StoredCredential | undefined> {
    const providers = await this.read();
    return Object.hasOwn(providers, provider) ? providers[provider] : undefined;
  }

  /** Store (or replace) a provider's token. */
  async set(
    provider: string,
    token: string,
    now: Date = new Date(),
  ): Promise<{ replaced: boolean; updated_at: string }> {
    registerSecret(token);
    const updated_at = now.toISOString();
    return this.serialized(async () => {
      const { providers } = await this.load();
      const replaced = Object.hasOwn(providers, provider);
      await this.write({ ...providers, [provider]: { token, updated_at } });
      return { replaced, updated_at };
    });
  }

  /** Remove a provider's token; false (and no write) when there was none. */
  async delete(provider: string): Promise<boolean> {
    return this.serialized(async () => {
      const { providers } = await this.load();
      if (!Object.hasOwn(providers, provider)) return false;
      const { [provider]: _removed, ...rest } = providers;
      await this.write(rest);
      return true;
    });
  }

  /**
   * Run writers one after another, in this process (a queue) and across processes sharing the
   * file (a lock file next to it); a failed one does not stop the next.
   */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const locked = async () => {
      try {
        await ensureDirectory(this.path);
      } catch (error) {
        throw ioError('write', this.path, error);
      }
      try {
        return await withFileLock(this.path, task);
      } catch (error) {
        throw ioError('lock', this.path, error);
      }
    };
    const run = this.tail.then(locked, locked);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async load(): Promise<DecodedFile> {
    await this.cleanOnce();
    let read: PrivateFile | undefined;
    try {
      read = await readPrivateFile(this.path);
    } catch (error) {
      throw ioError('read', this.path, error);
    }
    if (!read) return { providers: {}, encrypted: false };
    if (read.tightenedFrom !== undefined)
      this.warn(
        { path: this.path, mode: read.tightenedFrom.toString(8) },
        'credentials file was readable by others; its mode is now 0600',
      );
    const decoded = await decodeFile(read.text, this.path, this.cipher);
    for (const credential of Object.values(decoded.providers)) registerSecret(credential.token);
    if (this.cipher && !decoded.encrypted && !this.warnedPlaintext) {
      this.warnedPlaintext = true;
      this.warn(
        { path: this.path },
        'credentials file is not encrypted yet; the next write encrypts it with IIH_CREDENTIALS_KEY',
      );
    }
    return decoded;
  }

  private async write(providers: Providers): Promise<void> {
    const text = await encodeFile(providers, this.cipher);
    try {
      const dir = await ensureDirectory(this.path);
      if (!dir.created && dir.mode & 0o077 && !this.warnedDirectory) {
        this.warnedDirectory = true;
        this.warn(
          { path: this.path, mode: dir.mode.toString(8) },
          'the credentials directory is accessible to other users; 0700 is recommended',
        );
      }
      await writeFileAtomic(this.path, text);
    } catch (error) {
      throw ioError('write', this.path, error);
    }
  }

  /** Temp files of writers that were killed mid-write can hold secrets: remove them once. */
  private async cleanOnce(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    const removed = await removeStaleTemps(this.path).catch((error: unknown) => {
      this.warn(
        { path: this.path, code: (error as NodeJS.ErrnoException).code ?? 'unknown' },
        'could not remove temp files left by an interrupted write (they may hold secrets)',
      );
      return 0;
    });
    if (removed) this.warn({ path: this.path, removed }, 'removed temp files left by an interrupted write');
  }
}
