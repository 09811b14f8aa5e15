import ipaddr from 'ipaddr.js';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;
export type Address = IPv4 | IPv6;

export interface BlockedRange {
  cidr: string;
  name: string;
}

/**
 * IPv4 ranges web::fetch never connects to (IANA special-purpose registry: everything not
 * globally reachable). Public addresses are everything else.
 */
export const BLOCKED_IPV4: readonly BlockedRange[] = [
  { cidr: '0.0.0.0/8', name: 'unspecified ("this network")' },
  { cidr: '10.0.0.0/8', name: 'private' },
  { cidr: '100.64.0.0/10', name: 'carrier-grade NAT' },
  { cidr: '127.0.0.0/8', name: 'loopback' },
  { cidr: '169.254.0.0/16', name: 'link-local' },
  { cidr: '172.16.0.0/12', name: 'private' },
  { cidr: '192.0.0.0/24', name: 'IETF protocol assignments' },
  { cidr: '192.0.2.0/24', name: 'documentation (TEST-NET-1)' },
  { cidr: '192.88.99.0/24', name: '6to4 relay anycast (deprecated)' },
  { cidr: '192.168.0.0/16', name: 'private' },
  { cidr: '198.18.0.0/15', name: 'benchmarking' },
  { cidr: '198.51.100.0/24', name: 'documentation (TEST-NET-2)' },
  { cidr: '203.0.113.0/24', name: 'documentation (TEST-NET-3)' },
  { cidr: '224.0.0.0/4', name: 'multicast' },
  { cidr: '240.0.0.0/4', name: 'reserved (and broadcast)' },
];

/**
 * IPv6 ranges web::fetch never connects to. Beyond these, anything outside global unicast
 * 2000::/3 is refused too, except the two forms whose embedded IPv4 decides (IPv4-mapped
 * ::ffff:0:0/96 and NAT64 64:ff9b::/96); 6to4 and Teredo are also judged by the IPv4 inside.
 */
export const BLOCKED_IPV6: readonly BlockedRange[] = [
  { cidr: '::/128', name: 'unspecified' },
  { cidr: '::1/128', name: 'loopback' },
  { cidr: '::ffff:0:0:0/96', name: 'IPv4-translated (SIIT)' },
  { cidr: '::/96', name: 'IPv4-compatible (deprecated)' },
  { cidr: '64:ff9b:1::/48', name: 'local-use NAT64' },
  { cidr: '100::/64', name: 'discard-only' },
  { cidr: '2001:2::/48', name: 'benchmarking' },
  { cidr: '2001:10::/28', name: 'ORCHID (deprecated)' },
  { cidr: '2001:20::/28', name: 'ORCHIDv2' },
  { cidr: '2001:db8::/32', name: 'documentation' },
  { cidr: '3fff::/20', name: 'documentation' },
  { cidr: '5f00::/16', name: 'SRv6 SIDs' },
  { cidr: 'fc00::/7', name: 'unique local (ULA)' },
  { cidr: 'fe80::/10', name: 'link-local' },
  { cidr: 'fec0::/10', name: 'site-local (deprecated)' },
  { cidr: 'ff00::/8', name: 'multicast' },
];

/**
 * Cloud instance metadata and platform endpoints. Most sit in ranges blocked anyway; listing them
 * names them in errors and keeps them blocked even when an operator allows their range.
 */
export const METADATA_ADDRESSES: readonly { address: string; name: string }[] = [
  { address: '169.254.169.254', name: 'cloud metadata (AWS, GCP, Azure, OCI, DigitalOcean, ...)' },
  { address: '169.254.170.2', name: 'AWS ECS task metadata' },
  { address: '169.254.170.23', name: 'AWS EKS pod identity' },
  { address: '169.254.0.23', name: 'Tencent Cloud metadata' },
  { address: '100.100.100.200', name: 'Alibaba Cloud metadata' },
  { address: '168.63.129.16', name: 'Azure WireServer' },
  { address: '192.0.0.192', name: 'Oracle Cloud metadata (legacy)' },
  { address: 'fd00:ec2::254', name: 'AWS metadata (IPv6)' },
  { address: 'fd00:ec2::23', name: 'AWS EKS pod identity (IPv6)' },
];

const cidr = (text: string) => ipaddr.parseCIDR(text);
const v4Table = BLOCKED_IPV4.map((r) => ({ ...r, range: cidr(r.cidr) }));
const v6Table = BLOCKED_IPV6.map((r) => ({ ...r, range: cidr(r.cidr) }));
const metadata = METADATA_ADDRESSES.map((m) => ({ ...m, parsed: ipaddr.parse(m.address) }));

const GLOBAL_UNICAST = cidr('2000::/3');
const MAPPED = cidr('::ffff:0:0/96');
const NAT64 = cidr('64:ff9b::/96');
const SIX_TO_FOUR = cidr('2002::/16');
const TEREDO = cidr('2001::/32');

/** Whether an operator's `allow_private` covers an address (by range or exact address). */
export type AddressAllowed = (address: Address) => boolean;

export function parseAddress(text: string): Address | undefined {
  try {
    // DNS answers for link-local IPv6 may carry a zone (`fe80::1%eth0`); the zone changes nothing here.
    return ipaddr.parse(text.replace(/%.*$/, ''));
  } catch {
    return undefined;
  }
}

const sameKind = (a: Address, range: [Address, number]) => a.kind() === range[0].kind() && a.match(range);

function metadataOf(address: Address): string | undefined {
  const text = address.toNormalizedString();
  return metadata.find((m) => m.parsed.kind() === address.kind() && m.parsed.toNormalizedString() === text)?.name;
}

function refuseIPv4(address: IPv4, allowed: AddressAllowed): string | undefined {
  const service = metadataOf(address);
  if (service) return `${address} is ${service}`;
  const range = v4Table.find((r) => sameKind(address, r.range));
  if (!range || allowed(address)) return undefined;
  return `${address} is in ${range.cidr} (${range.name})`;
}

/** IPv4 addresses an IPv6 address stands for, where the network delivers to that IPv4. */
function embeddedIPv4(address: IPv6): { form: string; ipv4: IPv4 }[] {
  const p = address.parts as [number, number, number, number, number, number, number, number];
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  if (address.match(MAPPED)) return [{ form: 'IPv4-mapped', ipv4: v4(p[6], p[7]) }];
  if (address.match(NAT64)) return [{ form: 'NAT64 (64:ff9b::/96)', ipv4: v4(p[6], p[7]) }];
  if (address.match(SIX_TO_FOUR)) return [{ form: '6to4 (2002::/16)', ipv4: v4(p[1], p[2]) }];
  if (address.match(TEREDO))
    return [
      { form: 'Teredo server', ipv4: v4(p[2], p[3]) },
      // The client address is stored inverted (RFC 4380).
      { form: 'Teredo client', ipv4: v4(p[6] ^ 0xffff, p[7] ^ 0xffff) },
    ];
  return [];
}

function refuseIPv6(address: IPv6, allowed: AddressAllowed): string | undefined {
  const service = metadataOf(address);
  if (service) return `${address} is ${service}`;
  for (const { form, ipv4 } of embeddedIPv4(address)) {
    const inner = refuseIPv4(ipv4, (a) => allowed(a) || allowed(address));
    if (inner) return `${address} is the ${form} form of ${inner}`;
  }
  if (allowed(address)) return undefined;
  const range = v6Table.find((r) => sameKind(address, r.range));
  if (range) return `${address} is in ${range.cidr} (${range.name})`;
  const judgedByIPv4 = address.match(MAPPED) || address.match(NAT64);
  if (!judgedByIPv4 && !address.match(GLOBAL_UNICAST)) return `${address} is outside global unicast 2000::/3`;
  return undefined;
}

/**
 * Why web::fetch must not connect to an address, or undefined when it may. `allowed` is the
 * operator's `allow_private` list; it never lifts a metadata address.
 */
export function refuseAddress(text: string, allowed: AddressAllowed = () => false): string | undefined {
  const address = parseAddress(text);
  if (!address) return `${text} is not an IP address`;
  return address.kind() === 'ipv4' ? refuseIPv4(address as IPv4, allowed) : refuseIPv6(address as IPv6, allowed);
}
