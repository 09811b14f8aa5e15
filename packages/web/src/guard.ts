import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { refuseAddress } from './address-policy.js';
import { webError } from './errors.js';
import { type AllowList, refuseHostName } from './host-policy.js';

/** Resolves a host name to every address it has (the guard's one lookup per hop). */
export type Resolve = (host: string) => Promise<string[]>;

/** getaddrinfo, as the connection itself would resolve (so /etc/hosts counts). */
export const systemResolve: Resolve = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((answer) => answer.address);

/** Where one request may go: the URL's host for TLS and `Host`, and the checked addresses to connect to. */
export interface Target {
  url: URL;
  /** The host as the URL names it, without IPv6 brackets. */
  host: string;
  port: number;
  /** Every address the host resolved to, all checked; the connection uses only these. */
  addresses: { address: string; family: 4 | 6 }[];
}

/** Ports browsers refuse to fetch from (the Fetch standard's "bad ports"): other protocols listen there. */
const BAD_PORTS = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

const DNS_NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * The SSRF guard. `admit` decides one hop: scheme, port, host name, then ONE lookup whose every
 * answer must pass the address policy. The returned target carries those checked addresses and
 * the transport connects only to them, so a resolver that answers differently a second time
 * (DNS rebinding) is never asked again.
 */
export class Guard {
  constructor(
    private readonly allow: AllowList,
    private readonly resolve: Resolve = systemResolve,
  ) {}

  async admit(url: URL, signal: AbortSignal): Promise<Target> {
    const origin = `${url.protocol}//${url.host}`;
    if (!(url.protocol in DEFAULT_PORTS)) throw blocked(origin, `${url.protocol} is not http or https`);
    const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol]!;
    if (BAD_PORTS.has(port)) throw blocked(origin, `port ${port} belongs to another protocol (a Fetch "bad port")`);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;

    if (isIP(host)) {
      const why = refuseAddress(host, this.allow.allowsAddress);
      if (why) throw blocked(origin, why);
      return { url, host, port, addresses: [{ address: host, family: isIP(host) as 4 | 6 }] };
    }

    const nameAllowed = this.allow.allowsHost(host);
    const nameRefused = nameAllowed ? undefined : refuseHostName(host);
    if (nameRefused) throw blocked(origin, nameRefused);

    const answers = await this.lookup(host, signal);
    const allowed = nameAllowed ? () => true : this.allow.allowsAddress;
    for (const address of answers) {
      const why = refuseAddress(address, allowed);
      if (why) throw blocked(origin, `${host} resolves to ${why}`);
    }
    return { url, host, port, addresses: answers.map((address) => ({ address, family: isIP(address) as 4 | 6 })) };
  }

  private async lookup(host: string, signal: AbortSignal): Promise<string[]> {
    signal.throwIfAborted();
    let answers: string[];
    try {
      answers = await raceAbort(this.resolve(host), signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (DNS_NOT_FOUND.has(code)) throw webError('dns_error', `${host} does not resolve (${code})`);
      throw webError('network_error', `could not resolve ${host} (${code || (error as Error).message})`);
    }
    if (answers.length === 0) throw webError('dns_error', `${host} has no addresses`);
    return answers;
  }
}

const blocked = (origin: string, why: string) => webError('blocked', `${origin} refused: ${why}`);

/** A lookup cannot be cancelled; the call stops waiting for it. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
