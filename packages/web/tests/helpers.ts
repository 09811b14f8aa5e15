import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createLogger, type HandlerContext, type HarnessError } from '@iii-harness/runtime';
import { contracts, type WebFetchOutput } from '@iii-harness/types';
import { type Config, configSchema } from '../src/config.js';
import { webFetch } from '../src/fetch.js';
import { Guard, type Resolve } from '../src/guard.js';
import { AllowList } from '../src/host-policy.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  servername?: string;
}

export interface TestServer {
  port: number;
  /** `http://<host>:<port><path>` (host defaults to 127.0.0.1). */
  url(path?: string, host?: string): string;
  requests: RecordedRequest[];
  /** Responses whose connection closed, finished or not. */
  closed: number;
  close(): Promise<void>;
}

type Handle = (req: IncomingMessage, res: ServerResponse, recorded: RecordedRequest) => void;

/** A real HTTP(S) server on loopback that records every request it gets. */
export async function startServer(handle: Handle, tls?: { key: string; cert: string }): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const state = { closed: 0 };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        servername: (req.socket as { servername?: string }).servername,
      };
      requests.push(recorded);
      res.on('close', () => state.closed++);
      handle(req, res, recorded);
    });
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const scheme = tls ? 'https' : 'http';
  return {
    port,
    url: (path = '/', host = '127.0.0.1') => `${scheme}://${host}:${port}${path}`,
    requests,
    get closed() {
      return state.closed;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A resolver from a fixed table, counting lookups; names it does not know do not exist. */
export function stubResolver(table: Record<string, string[] | (() => string[])>): Resolve & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    const answer = table[host];
    if (answer === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return typeof answer === 'function' ? answer() : answer;
  };
  return Object.assign(resolve, { calls });
}

/** nip.io and sslip.io answer with the address spelled in the name: the resolver for them does too. */
export function wildcardDnsResolver(fallback: Resolve): Resolve {
  return async (host) => {
    const dotted = /(?:^|[.-])(\d{1,3}(?:[.-]\d{1,3}){3})\.(?:nip\.io|sslip\.io)$/.exec(host);
    if (dotted) return [dotted[1]!.replaceAll('-', '.')];
    const hex = /(?:^|\.)([0-9a-f]{8})\.nip\.io$/.exec(host);
    if (hex)
      return [
        hex[1]!
          .match(/../g)!
          .map((h) => Number.parseInt(h, 16))
          .join('.'),
      ];
    return fallback(host);
  };
}

export const testConfig = (overrides: Record<string, unknown> = {}): Config => configSchema.parse(overrides);

export type FetchInput = Parameters<typeof contracts.web.fetch.input.parse>[0];

/** The web::fetch handler as the worker serves it (input validated by the contract), without a bus. */
export function fetcher(options: { config?: Record<string, unknown>; resolve: Resolve; ca?: string }) {
  const config = testConfig(options.config);
  const guard = new Guard(new AllowList(config.allow_private), options.resolve);
  const handler = webFetch({ guard, config, ca: options.ca });
  const logger = createLogger({ worker: 'web', level: 'silent' });
  const ctx = { function_id: 'web::fetch', logger } as unknown as HandlerContext;
  return async (input: FetchInput): Promise<WebFetchOutput> =>
    contracts.web.fetch.output.parse(await handler(contracts.web.fetch.input.parse(input), ctx));
}

/** `code/reason` of a failed call, or `resolved`. */
export const outcomeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: HarnessError) => `${error.code}/${error.reason ?? ''}`,
  );
