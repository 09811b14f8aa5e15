/**
 * Browser origin check for WebSocket upgrades. A page on any site can open a WebSocket to
 * 127.0.0.1; the browser then sends its own origin, which is the only thing that tells such a
 * connection apart from a local worker. Non-browser clients send no `Origin` and are accepted.
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname);
}

/** True when a socket with this `Origin` header (or none) may be upgraded. */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  for (const entry of allowed) {
    if (entry === '*' || entry === origin) return true;
    if (entry === 'loopback' && isLoopbackOrigin(origin)) return true;
  }
  return false;
}
