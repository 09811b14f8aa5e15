/**
 * Where HTTP-invoked functions may point (`iii-http-functions` `security`): the host must match
 * one of `url_allowlist` (glob, default `*`), `require_https` (default true) refuses `http:`,
 * and `block_private_ips` (default true) refuses loopback, private, link-local and unspecified
 * addresses — for a hostname, if any address it resolves to is one. Checked at registration and
 * again before every request, like the real engine.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface UrlSecurity {
  url_allowlist: string[];
  block_private_ips: boolean;
  require_https: boolean;
}

export const DEFAULT_URL_SECURITY: UrlSecurity = { url_allowlist: ['*'], block_private_ips: true, require_https: true };

/** A shell-style glob on a host name (`*`, `?`). */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(value);
}

function isPrivateV4(ip: string): boolean {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  return (
    a === 127 ||
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    a === 0 ||
    ip === '255.255.255.255' ||
    (a === 192 && b === 0 && ip.startsWith('192.0.2.')) ||
    ip.startsWith('198.51.100.') ||
    ip.startsWith('203.0.113.')
  );
}

function isPrivateV6(ip: string): boolean {
  const lower = ip.toLowerCase();
  if (lower === '::1' || lower === '::') return true;
  if (lower.startsWith('::ffff:')) return isPrivateV4(lower.slice(7));
  const first = Number.parseInt(lower.split(':')[0] || '0', 16);
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00;
}

export function isPrivateIp(ip: string): boolean {
  return isIP(ip) === 4 ? isPrivateV4(ip) : isPrivateV6(ip);
}

/** Undefined when the URL is acceptable, else the real engine's reason text. */
export async function urlProblem(url: string, policy: UrlSecurity): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'Invalid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'Invalid URL';
  if (policy.require_https && parsed.protocol !== 'https:') return 'HTTPS is required';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (!host) return 'Invalid URL';
  if (!policy.url_allowlist.some((p) => globMatch(p, host))) return 'URL not in allowlist';
  if (!policy.block_private_ips) return undefined;
  if (isIP(host)) return isPrivateIp(host) ? 'Private IP blocked' : undefined;
  try {
    const addresses = await lookup(host, { all: true });
    return addresses.some((a) => isPrivateIp(a.address)) ? 'Private IP blocked' : undefined;
  } catch {
    return 'DNS lookup failed';
  }
}
