import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { Address } from './address-policy.js';

/** Names of metadata services, refused before any lookup (some resolve only inside a cloud). */
export const METADATA_HOST_NAMES: readonly string[] = [
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.azure.com',
];

/**
 * Name suffixes that only mean something on a local network (RFC 6761 `localhost`, RFC 6762
 * `local` and its private-use list, RFC 8375 `home.arpa`, ICANN's `internal`), refused with
 * every name under them.
 */
export const BLOCKED_HOST_SUFFIXES: readonly string[] = [
  'localhost',
  'local',
  'internal',
  'localdomain',
  'home.arpa',
  'lan',
  'home',
  'corp',
  'intranet',
  'private',
];

/** A host name without its trailing dots (`localhost.` is `localhost`). */
export const canonicalHost = (host: string) => host.toLowerCase().replace(/\.+$/, '');

const underSuffix = (host: string, suffix: string) => host === suffix || host.endsWith(`.${suffix}`);

/** Why a host name is refused before it is looked up, or undefined. */
export function refuseHostName(host: string): string | undefined {
  const name = canonicalHost(host);
  if (METADATA_HOST_NAMES.includes(name)) return `${name} is a cloud metadata host name`;
  const suffix = BLOCKED_HOST_SUFFIXES.find((s) => underSuffix(name, s));
  if (suffix) return `${name} is under .${suffix}, a local-network name`;
  // A name without a dot is completed by the resolver's search domains: an intranet host.
  if (!name.includes('.')) return `${name} is a single-label name (resolved through local search domains)`;
  return undefined;
}

const HOST_PATTERN = /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/;

type AllowEntry = { range: [Address, number] } | { suffix: string } | { name: string };

/** One `allow_private` entry: an address or CIDR range (strict dotted-quad IPv4), `*.suffix`, or a name. */
export function parseAllowEntry(entry: string): AllowEntry | undefined {
  const [base, bits, extra] = entry.split('/');
  if (base && isIP(base) && extra === undefined) {
    const address = ipaddr.parse(base);
    const max = address.kind() === 'ipv4' ? 32 : 128;
    if (bits === undefined) return { range: [address, max] };
    const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
    return prefix <= max ? { range: [address, prefix] } : undefined;
  }
  if (!HOST_PATTERN.test(entry)) return undefined;
  return entry.startsWith('*.') ? { suffix: canonicalHost(entry.slice(2)) } : { name: canonicalHost(entry) };
}

/** The operator's `allow_private` entries, split into host names, wildcard suffixes and ranges. */
export class AllowList {
  private readonly names = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly ranges: [Address, number][] = [];

  constructor(entries: readonly string[]) {
    for (const text of entries) {
      const entry = parseAllowEntry(text.trim().toLowerCase());
      if (!entry) throw new Error(`allow_private: "${text}" is not a host name, *.suffix, address or CIDR range`);
      if ('range' in entry) this.ranges.push(entry.range);
      else if ('suffix' in entry) this.suffixes.push(entry.suffix);
      else this.names.add(entry.name);
    }
  }

  /** An allowed name may resolve into private ranges and skips the host-name blocklist. */
  allowsHost(host: string): boolean {
    const name = canonicalHost(host);
    return this.names.has(name) || this.suffixes.some((s) => name.endsWith(`.${s}`));
  }

  allowsAddress = (address: Address): boolean =>
    this.ranges.some(([base, bits]) => base.kind() === address.kind() && address.match(base, bits));
}
