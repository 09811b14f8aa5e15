// A deterministic tar.gz writer (POSIX ustar) for iii bundles: regular files and directories only,
// fixed owner and time, entries in the order given. Small enough to own instead of a dependency.
import { gzipSync } from 'node:zlib';

const BLOCK = 512;

/** The iii registry's limits for a bundle archive (engine `worker add`; research notes §6.3). */
export const BUNDLE_LIMITS = {
  totalBytes: 64 * 1024 * 1024,
  fileBytes: 32 * 1024 * 1024,
  entries: 1024,
  depth: 16,
};

/** Problems with a bundle's entries against BUNDLE_LIMITS; empty when the registry would take it. */
export function checkBundleLimits(entries, limits = BUNDLE_LIMITS) {
  const problems = [];
  if (entries.length > limits.entries) problems.push(`${entries.length} entries (limit ${limits.entries})`);
  let total = 0;
  for (const entry of entries) {
    const size = entry.data?.length ?? 0;
    total += size;
    if (size > limits.fileBytes) problems.push(`${entry.path}: ${size} bytes (limit ${limits.fileBytes} per file)`);
    if (entry.path.split('/').filter(Boolean).length > limits.depth)
      problems.push(`${entry.path}: deeper than ${limits.depth} levels`);
    if (entry.path.startsWith('/') || entry.path.split('/').includes('..'))
      problems.push(`${entry.path}: must be a relative path inside the archive`);
  }
  if (total > limits.totalBytes) problems.push(`${total} bytes in all (limit ${limits.totalBytes})`);
  return problems;
}

function octal(value, width) {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header({ path, size, mode, type, mtime }) {
  const block = Buffer.alloc(BLOCK);
  const name = Buffer.from(path, 'utf8');
  let prefix = Buffer.alloc(0);
  let rest = name;
  if (name.length > 100) {
    // ustar splits long names at a '/' into prefix (155) + name (100).
    const cut = path.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) throw new Error(`path too long for ustar: ${path}`);
    prefix = Buffer.from(path.slice(0, cut), 'utf8');
    rest = Buffer.from(path.slice(cut + 1), 'utf8');
  }
  rest.copy(block, 0);
  block.write(octal(mode, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii'); // uid
  block.write(octal(0, 8), 116, 'ascii'); // gid
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(mtime, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii'); // checksum placeholder: eight spaces
  block.write(type, 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  prefix.copy(block, 345);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/**
 * The gzipped tar of `entries` ({path, data?: Buffer, mode?}); a path ending in '/' is a
 * directory. `mtime` (seconds) is the same for every entry so equal inputs give equal bytes.
 */
export function tarGz(entries, { mtime = 0 } = {}) {
  const chunks = [];
  for (const entry of entries) {
    const isDir = entry.path.endsWith('/');
    const data = isDir ? Buffer.alloc(0) : Buffer.from(entry.data ?? '');
    chunks.push(
      header({
        path: entry.path,
        size: data.length,
        mode: entry.mode ?? (isDir ? 0o755 : 0o644),
        type: isDir ? '5' : '0',
        mtime,
      }),
    );
    if (data.length) {
      chunks.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) chunks.push(Buffer.alloc(pad));
    }
  }
  chunks.push(Buffer.alloc(BLOCK * 2)); // end-of-archive marker
  return gzipSync(Buffer.concat(chunks), { level: 9 });
}
