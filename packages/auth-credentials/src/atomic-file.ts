import { randomBytes } from 'node:crypto';
import {
  chmod,
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Temp files are `.<name>.<pid>.<12 hex>.tmp` next to the target, so a rename is atomic. */
function tempPattern(target: string): RegExp {
  const escaped = basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${escaped}\\.(\\d+)\\.[0-9a-f]{12}\\.tmp$`);
}

function tempPath(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Create the target's directory (and missing parents) with mode 0700. Directories that already
 * existed are left as they are (the path may be shared, e.g. /tmp); the caller gets their mode
 * to warn about.
 */
export async function ensureDirectory(target: string): Promise<{ created: boolean; mode: number }> {
  const dir = dirname(target);
  const first = await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (first !== undefined) {
    // The umask can only narrow the mode given to mkdir; set it exactly on each new level anyway.
    for (let level = dir; level.length >= first.length; level = dirname(level)) {
      await chmod(level, DIR_MODE);
      if (level === first) break;
    }
  }
  return { created: first !== undefined, mode: (await stat(dir)).mode & 0o777 };
}

/** Make the directory entry of a rename durable (a no-op where directories cannot be opened). */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (process.platform !== 'win32' && code !== 'EINVAL' && code !== 'ENOTSUP') throw error;
  } finally {
    await handle?.close();
  }
}

/**
 * Replace `target` with `data` so that a crash at any point leaves either the old file or the new
 * one, never a mix: write a 0600 temp file in the same directory, fsync it, rename it over the
 * target, fsync the directory. A failed write removes its temp file.
 */
export async function writeFileAtomic(target: string, data: string | Buffer): Promise<void> {
  const temp = tempPath(target);
  const handle = await open(temp, 'wx', FILE_MODE);
  try {
    try {
      // Exactly 0600 whatever the umask (a restrictive one could otherwise lock the owner out).
      await handle.chmod(FILE_MODE);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(target));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove temp files left by writers that died mid-write (they may hold secrets). Returns how many. */
export async function removeStaleTemps(target: string): Promise<number> {
  const pattern = tempPattern(target);
  let names: string[];
  try {
    names = await readdir(dirname(target));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!pid || pid === process.pid || isAlive(pid)) continue;
    await rm(join(dirname(target), name), { force: true });
    removed++;
  }
  return removed;
}

/** A private file's text, and its former mode when it had to be tightened. */
export interface PrivateFile {
  text: string;
  tightenedFrom?: number;
}

/** The file's text, or undefined when it does not exist. Tightens a file others could read to 0600. */
export async function readPrivateFile(target: string): Promise<PrivateFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(target, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw Object.assign(new Error(`${target} is not a regular file`), { code: 'EISDIR' });
    const mode = info.mode & 0o777;
    let tightenedFrom: number | undefined;
    if (mode & 0o077) {
      await handle.chmod(FILE_MODE);
      tightenedFrom = mode;
    }
    return { text: await handle.readFile('utf8'), ...(tightenedFrom !== undefined ? { tightenedFrom } : {}) };
  } finally {
    await handle.close();
  }
}

export interface FileLockOptions {
  /** A lock older than this is a dead writer's, whoever holds it (a write takes milliseconds). */
  staleMs?: number;
  /** Give up waiting after this long (the error has code `ELOCKED`). */
  waitMs?: number;
}

const lockPath = (target: string) => join(dirname(target), `.${basename(target)}.lock`);

/** The holder of a lock, as its file says: `<host> <pid> <token>`. */
function holderOf(text: string): { host: string; pid: number; token: string } | undefined {
  const [host, pid, token] = text.trim().split(' ');
  return host && pid && token ? { host, pid: Number(pid), token } : undefined;
}

async function staleLock(path: string, staleMs: number): Promise<string | undefined> {
  let text: string;
  let age: number;
  try {
    [text, age] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => Date.now() - s.mtimeMs)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const holder = holderOf(text);
  // A lock is linked into place whole (tryLock), so one that names no holder is debris.
  if (holder === undefined) return text;
  const deadHere = holder.host === hostname() && !isAlive(holder.pid);
  return deadHere || age > staleMs ? text : undefined;
}

/**
 * Take the lock at once or not at all: the holder's line goes to a temp file first, then is
 * hard-linked into place (atomic; EEXIST when held). A lock file created empty and filled after
 * would, if its writer died in between, name no holder to judge, and hold every writer up.
 */
async function tryLock(target: string, mine: string): Promise<boolean> {
  const temp = tempPath(target);
  await writeFile(temp, mine, { mode: FILE_MODE, flag: 'wx' });
  try {
    await link(temp, lockPath(target));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Run `work` holding an exclusive lock on `target` across processes: a `.<name>.lock` file next to
 * it, created `O_EXCL` (atomic on local file systems and NFSv4). A lock left by a writer that died
 * — on this host a pid that is gone, anywhere one older than `staleMs` — is broken.
 */
export async function withFileLock<T>(
  target: string,
  work: () => Promise<T>,
  { staleMs = 30_000, waitMs = 10_000 }: FileLockOptions = {},
): Promise<T> {
  const path = lockPath(target);
  const mine = `${hostname()} ${process.pid} ${randomBytes(6).toString('hex')}\n`;
  // Temp files of writers killed while taking the lock (or writing).
  await removeStaleTemps(target);
  const deadline = Date.now() + waitMs;
  for (let delay = 2; !(await tryLock(target, mine)); delay = Math.min(delay * 2, 50)) {
    const stale = await staleLock(path, staleMs);
    // Broken only if it is still the lock judged stale (another waiter may have broken it first).
    if (stale !== undefined && (await readFile(path, 'utf8').catch(() => undefined)) === stale) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline)
      throw Object.assign(new Error(`${path} is held by another writer`), { code: 'ELOCKED' });
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  try {
    return await work();
  } finally {
    if ((await readFile(path, 'utf8').catch(() => undefined)) === mine) await unlink(path).catch(() => undefined);
  }
}
