import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCKED_IPV4, BLOCKED_IPV6, METADATA_ADDRESSES } from '../src/address-policy.js';
import { Guard } from '../src/guard.js';
import { AllowList, BLOCKED_HOST_SUFFIXES, METADATA_HOST_NAMES } from '../src/host-policy.js';
import { fetcher, outcomeOf, startServer, stubResolver, type TestServer, wildcardDnsResolver } from './helpers.js';

/**
 * Every URL here goes through the real handler (URL parsing, guard, transport) with no allowlist.
 * A canary server listens on 127.0.0.1: loopback spellings carry its port, so a guard that let one
 * through would reach it (and the test counts its requests). Names resolve through a stub that
 * answers like the public DNS would (nip.io/sslip.io spell the address in the name).
 */

const PUBLIC = '93.184.215.14';
const names = {
  'example.com': [PUBLIC],
  'evil.example': [PUBLIC],
  'localtest.me': ['127.0.0.1'], // a public name pointing at loopback
  'lvh.me': ['127.0.0.1'],
  'mixed.test': [PUBLIC, '10.0.0.5'], // one good answer does not excuse a bad one
  'v6only.test': ['::1'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'ula.test': ['fd12:3456::1'],
  'linklocal6.test': ['fe80::1%eth0'],
  'metadata-v6.test': ['fd00:ec2::254'],
  'nat64.test': ['64:ff9b::a9fe:a9fe'],
  'garbage.test': ['not-an-address'],
};

let canary: TestServer;
let P: number;

beforeAll(async () => {
  canary = await startServer((_req, res) => res.end('canary reached'));
  P = canary.port;
});
afterAll(() => canary.close());

const fetchBlockedCorpus = () =>
  fetcher({
    resolve: wildcardDnsResolver(stubResolver(names)),
    config: { first_byte_timeout_ms: 2_000, timeout_ms: { default: 3_000 } },
  });

/** [url, why it is dangerous]. `{P}` is the canary's port. */
const blocked: [string, string][] = [
  // IPv4 loopback, every spelling the URL parser accepts
  ['http://127.0.0.1:{P}/', 'loopback'],
  ['http://127.1:{P}/', 'short form a.d'],
  ['http://127.0.1:{P}/', 'short form a.b.d'],
  ['http://2130706433:{P}/', 'decimal'],
  ['http://0x7f000001:{P}/', 'hex'],
  ['http://0x7f.0x0.0x0.0x1:{P}/', 'hex per octet'],
  ['http://0x7F.1:{P}/', 'hex short form'],
  ['http://0177.0.0.1:{P}/', 'octal octet'],
  ['http://017700000001:{P}/', 'octal whole'],
  ['http://0177.1:{P}/', 'octal short form'],
  ['http://127.000.000.001:{P}/', 'zero-padded octets'],
  ['http://127.0.0.1.:{P}/', 'trailing dot'],
  ['http://127.255.255.254:{P}/', 'anywhere in 127/8'],
  ['http://①②⑦.0.0.1:{P}/', 'enclosed digits (IDNA maps them)'],
  ['http://127。0。0。1:{P}/', 'ideographic full stops'],
  ['http://127.0.0.1\\@evil.example:{P}/', 'backslash is a path separator: host stays 127.0.0.1'],
  ['http://0:{P}/', '0 is 0.0.0.0'],
  ['http://0.0.0.0:{P}/', 'unspecified reaches local services'],
  ['http://0x0:{P}/', 'hex zero'],
  ['http://00000000:{P}/', 'octal zero'],
  // IPv6 loopback and unspecified
  ['http://[::]:{P}/', 'IPv6 unspecified'],
  ['http://[::1]:{P}/', 'IPv6 loopback'],
  ['http://[0:0:0:0:0:0:0:1]:{P}/', 'IPv6 loopback, long'],
  // IPv4 inside IPv6
  ['http://[::ffff:127.0.0.1]:{P}/', 'IPv4-mapped loopback'],
  ['http://[::ffff:7f00:1]:{P}/', 'IPv4-mapped loopback, hex'],
  ['http://[0:0:0:0:0:ffff:127.0.0.1]:{P}/', 'IPv4-mapped, long'],
  ['http://[::ffff:a9fe:a9fe]/', 'IPv4-mapped metadata'],
  ['http://[::ffff:10.0.0.1]/', 'IPv4-mapped private'],
  ['http://[::ffff:192.168.0.1]/', 'IPv4-mapped private'],
  ['http://[::ffff:100.100.100.200]/', 'IPv4-mapped Alibaba metadata'],
  ['http://[::127.0.0.1]:{P}/', 'IPv4-compatible loopback'],
  ['http://[::8.8.8.8]/', 'IPv4-compatible (deprecated, never routed)'],
  ['http://[::ffff:0:127.0.0.1]:{P}/', 'IPv4-translated (SIIT)'],
  ['http://[64:ff9b::127.0.0.1]/', 'NAT64 loopback'],
  ['http://[64:ff9b::a9fe:a9fe]/', 'NAT64 metadata'],
  ['http://[64:ff9b::10.0.0.1]/', 'NAT64 private'],
  ['http://[64:ff9b:1::a00:1]/', 'local-use NAT64'],
  ['http://[64:ff9b:1:7f00:1::]/', 'local-use NAT64 /48 embedding loopback'],
  ['http://[2002:7f00:1::]/', '6to4 loopback'],
  ['http://[2002:a9fe:a9fe::1]/', '6to4 metadata'],
  ['http://[2002:c0a8:101::1]/', '6to4 private'],
  ['http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', 'Teredo client 127.0.0.1'],
  ['http://[2001:0:4136:e378:8000:63bf:5601:5601]/', 'Teredo client 169.254.169.254'],
  ['http://[2001:0:a00:1:8000:63bf:f7f7:f7f7]/', 'Teredo server 10.0.0.1'],
  // IPv6 local ranges
  ['http://[fe80::1]/', 'link-local'],
  ['http://[fe80::a9fe:a9fe]/', 'link-local'],
  ['http://[fec0::1]/', 'site-local (deprecated)'],
  ['http://[fc00::1]/', 'ULA'],
  ['http://[fd00::1]/', 'ULA'],
  ['http://[fd00:ec2::254]/', 'AWS metadata over IPv6'],
  ['http://[ff02::1]/', 'multicast'],
  ['http://[100::1]/', 'discard-only'],
  ['http://[2001:db8::1]/', 'documentation'],
  ['http://[4000::1]/', 'outside global unicast'],
  // Metadata services, by address and by name
  ['http://169.254.169.254/latest/meta-data/', 'AWS/GCP/Azure metadata'],
  ['http://2852039166/latest/meta-data/', 'metadata, decimal'],
  ['http://0xa9fea9fe/', 'metadata, hex'],
  ['http://0251.0376.0251.0376/', 'metadata, octal'],
  ['http://169.254.170.2/v2/credentials', 'ECS task credentials'],
  ['http://100.100.100.200/latest/meta-data/', 'Alibaba metadata'],
  ['http://168.63.129.16/', 'Azure WireServer (a public-range address)'],
  ['http://192.0.0.192/', 'Oracle legacy metadata'],
  ['http://metadata.google.internal/computeMetadata/v1/', 'GCP metadata name'],
  ['http://metadata/', 'metadata short name'],
  ['http://metadata.goog/', 'GCP metadata name'],
  ['http://instance-data/latest/', 'EC2 metadata name'],
  // Private, shared, reserved IPv4
  ['http://10.0.0.1/', 'private'],
  ['http://10.255.255.255/', 'private'],
  ['http://172.16.0.1/', 'private'],
  ['http://172.31.255.255/', 'private'],
  ['http://192.168.0.1/', 'private'],
  ['http://192.168.1.1:8080/admin', 'private with a port'],
  ['http://100.64.0.1/', 'carrier-grade NAT'],
  ['http://100.127.255.255/', 'carrier-grade NAT'],
  ['http://169.254.0.1/', 'link-local'],
  ['http://224.0.0.1/', 'multicast'],
  ['http://239.255.255.250/', 'multicast (SSDP)'],
  ['http://240.0.0.1/', 'reserved'],
  ['http://255.255.255.255/', 'broadcast'],
  ['http://192.0.2.1/', 'documentation'],
  ['http://198.18.0.1/', 'benchmarking'],
  ['http://198.51.100.7/', 'documentation'],
  ['http://203.0.113.9/', 'documentation'],
  ['http://192.88.99.1/', '6to4 relay anycast'],
  ['http://192.0.0.8/', 'IETF protocol assignments'],
  // Local-network names
  ['http://localhost:{P}/', 'localhost'],
  ['http://LOCALHOST:{P}/', 'localhost, upper case'],
  ['http://localhost.:{P}/', 'localhost, trailing dot'],
  ['http://ｌｏｃａｌｈｏｓｔ:{P}/', 'localhost, full-width letters'],
  ['http://foo.localhost:{P}/', '*.localhost'],
  ['http://localhost.localdomain:{P}/', 'localdomain'],
  ['http://printer.local/', 'mDNS .local'],
  ['http://service.internal/', '.internal'],
  ['http://db.corp/', 'private-use .corp'],
  ['http://router.home.arpa/', 'home.arpa'],
  ['http://nas.lan/', 'private-use .lan'],
  ['http://intranet/', 'single label (search domains)'],
  // Public names that resolve into blocked ranges
  ['http://127.0.0.1.nip.io:{P}/', 'nip.io loopback'],
  ['http://10.0.0.1.nip.io/', 'nip.io private'],
  ['http://app.192.168.1.10.nip.io/', 'nip.io with a prefix'],
  ['http://169.254.169.254.sslip.io/', 'sslip.io metadata'],
  ['http://127-0-0-1.sslip.io:{P}/', 'sslip.io dashed'],
  ['http://7f000001.nip.io:{P}/', 'nip.io hex form'],
  ['http://customer.app.127.0.0.1.nip.io:{P}/', 'nip.io deep'],
  ['http://localtest.me:{P}/', 'public name for loopback'],
  ['http://lvh.me:{P}/', 'public name for loopback'],
  ['http://mixed.test/', 'one public and one private answer'],
  ['http://v6only.test:{P}/', 'AAAA ::1'],
  ['http://mapped.test:{P}/', 'AAAA IPv4-mapped loopback'],
  ['http://ula.test/', 'AAAA ULA'],
  ['http://linklocal6.test/', 'AAAA link-local with a zone'],
  ['http://metadata-v6.test/', 'AAAA AWS metadata'],
  ['http://nat64.test/', 'AAAA NAT64 of metadata'],
  ['http://garbage.test/', 'a resolver answer that is not an address'],
  // Ports of other protocols on a public host
  ['http://93.184.215.14:25/', 'SMTP'],
  ['http://example.com:22/', 'SSH'],
  ['https://example.com:6667/', 'IRC'],
  ['http://example.com:0/', 'port 0'],
];

describe('the SSRF corpus', () => {
  it('has at least 100 blocked URLs', () => {
    expect(blocked.length).toBeGreaterThanOrEqual(100);
  });

  it.each(blocked)('blocks %s (%s)', async (template) => {
    const url = template.replace('{P}', String(P));
    const fetch = fetchBlockedCorpus();
    expect(await outcomeOf(fetch({ url }))).toBe('denied/blocked');
    expect(canary.requests).toEqual([]);
  });

  it('says why in the message: the range, the service or the name', async () => {
    const fetch = fetchBlockedCorpus();
    await expect(fetch({ url: 'http://[::ffff:a9fe:a9fe]/' })).rejects.toThrow(
      /IPv4-mapped form of 169\.254\.169\.254 is cloud metadata/,
    );
    await expect(fetch({ url: 'http://0x7f.1/' })).rejects.toThrow(/127\.0\.0\.1 is in 127\.0\.0\.0\/8 \(loopback\)/);
    await expect(fetch({ url: 'http://10.0.0.1.nip.io/' })).rejects.toThrow(
      /10\.0\.0\.1\.nip\.io resolves to 10\.0\.0\.1 is in 10\.0\.0\.0\/8 \(private\)/,
    );
    await expect(fetch({ url: 'http://metadata.google.internal/' })).rejects.toThrow(/cloud metadata host name/);
  });
});

describe('ordinary URLs', () => {
  const resolve = stubResolver({
    'example.com': [PUBLIC],
    'www.wikipedia.org': ['185.15.59.224', '2a02:ec80:300:ed1a::1'],
    'api.github.com': ['140.82.112.6'],
    'xn--bcher-kva.example': ['203.0.114.1'],
    'evil.example': [PUBLIC],
    '1.2.3.4.nip.io': ['1.2.3.4'],
    'docs.python.org': ['151.101.0.223', '2a04:4e42::223'],
  });
  const guard = new Guard(new AllowList([]), resolve);
  const allowed = [
    'http://example.com/',
    'https://example.com/path?q=1#frag',
    'https://www.wikipedia.org/wiki/Server-side_request_forgery',
    'https://api.github.com/repos/nodejs/node',
    'http://bücher.example/',
    'http://evil.example#@127.0.0.1/',
    'https://docs.python.org:443/3/',
    'http://1.2.3.4.nip.io/',
    'http://8.8.8.8/',
    'http://1.1.1.1/dns-query',
    'http://93.184.215.14:8080/x',
    'http://172.32.0.1/',
    'http://100.128.0.1/',
    'http://192.169.0.1/',
    'http://11.0.0.1/',
    'http://169.253.255.255/',
    'http://126.255.255.255/',
    'http://223.255.255.255/',
    'http://[2606:4700:4700::1111]/',
    'http://[2001:4860:4860::8888]/',
    'http://[::ffff:8.8.8.8]/',
    'http://[64:ff9b::8.8.8.8]/',
    'http://[2002:808:808::1]/',
    'http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/',
  ];

  it.each(allowed)('admits %s', async (text) => {
    const target = await guard.admit(new URL(text), new AbortController().signal);
    expect(target.addresses.length).toBeGreaterThan(0);
  });

  it('resolves each host once per hop', async () => {
    resolve.calls.length = 0;
    await guard.admit(new URL('https://www.wikipedia.org/'), new AbortController().signal);
    expect(resolve.calls).toEqual(['www.wikipedia.org']);
  });
});

describe('allow_private', () => {
  const resolve = stubResolver({ 'wiki.corp.example': ['10.1.2.3'], 'meta.corp.example': ['169.254.169.254'] });
  const signal = new AbortController().signal;

  it('lets an operator reach a named private host or range, never a metadata address', async () => {
    const open = new Guard(new AllowList(['*.corp.example', '192.168.10.0/24', 'printer.local']), resolve);
    await expect(open.admit(new URL('http://wiki.corp.example/'), signal)).resolves.toMatchObject({
      addresses: [{ address: '10.1.2.3', family: 4 }],
    });
    await expect(open.admit(new URL('http://192.168.10.7/'), signal)).resolves.toBeDefined();
    await expect(open.admit(new URL('http://[::ffff:192.168.10.7]/'), signal)).resolves.toBeDefined();
    expect(await outcomeOf(open.admit(new URL('http://192.168.11.7/'), signal))).toBe('denied/blocked');
    expect(await outcomeOf(open.admit(new URL('http://meta.corp.example/'), signal))).toBe('denied/blocked');
    const wide = new Guard(new AllowList(['169.254.0.0/16', '0.0.0.0/0']), resolve);
    expect(await outcomeOf(wide.admit(new URL('http://169.254.169.254/'), signal))).toBe('denied/blocked');
    expect(await outcomeOf(wide.admit(new URL('http://169.254.1.1/'), signal))).toBe('resolved');
  });

  it('is empty by default: the same names are blocked without it', async () => {
    const closed = new Guard(new AllowList([]), resolve);
    expect(await outcomeOf(closed.admit(new URL('http://wiki.corp.example/'), signal))).toBe('denied/blocked');
    expect(await outcomeOf(closed.admit(new URL('http://printer.local/'), signal))).toBe('denied/blocked');
  });

  it('rejects entries that are neither names nor ranges', () => {
    expect(() => new AllowList(['10.0.0.0/33'])).toThrow(/not a host name/);
    expect(() => new AllowList(['http://x/'])).toThrow(/not a host name/);
  });
});

describe('the README', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

  it('lists every blocked range, metadata address, host suffix and metadata name the code blocks', () => {
    for (const { cidr } of [...BLOCKED_IPV4, ...BLOCKED_IPV6]) expect(readme).toContain(`\`${cidr}\``);
    for (const { address } of METADATA_ADDRESSES) expect(readme).toContain(`\`${address}\``);
    for (const suffix of BLOCKED_HOST_SUFFIXES) expect(readme).toContain(`\`${suffix}\``);
    for (const name of METADATA_HOST_NAMES) expect(readme).toContain(`\`${name}\``);
  });
});
