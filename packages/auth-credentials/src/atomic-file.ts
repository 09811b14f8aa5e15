import { randomBytes } from 'node:crypto';
import { chmod, type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
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
