import { createHash, randomBytes } from 'node:crypto';

let lastMs = -1;
let counter = 0;

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then a 12-bit counter that keeps ids made in the
 * same millisecond in creation order, then random bits. Sorting the strings sorts by creation time.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now <= lastMs) {
    counter += 1;
    if (counter > 0xfff) {
      lastMs += 1; // borrow the next millisecond rather than lose ordering
      counter = 0;
    }
  } else {
    lastMs = now;
    counter = 0;
  }
  const bytes = randomBytes(16);
  const ms = lastMs;
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | ((counter >>> 8) & 0x0f);
  bytes[7] = counter & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The creation time encoded in a UUIDv7. */
export function uuidv7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/**
 * A deterministic id from parts, for writes that may be redelivered: the same parts always give
 * the same id, so a replayed step rewrites the same entry instead of adding one.
 * Readable parts are kept as `a:b:c`; parts with separators are hashed to stay unambiguous.
 */
export function deterministicId(...parts: Array<string | number>): string {
  if (parts.length === 0) throw new Error('deterministicId needs at least one part');
  const strings = parts.map(String);
  if (strings.every((part) => /^[A-Za-z0-9_.-]+$/.test(part))) return strings.join(':');
  return `h_${createHash('sha256').update(JSON.stringify(strings)).digest('hex').slice(0, 32)}`;
}
