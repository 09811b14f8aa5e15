import type { LookupAddress, LookupOptions } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { pipeline, type Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { isHarnessError } from '@iii-harness/runtime';
import { responseTooLarge, webError } from './errors.js';
import type { Target } from './guard.js';

export interface SendOptions {
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  firstByteTimeoutMs: number;
  maxHeaderBytes: number;
  /** Aborted when the call's total time runs out. */
  signal: AbortSignal;
  /** Extra trusted CA certificates (PEM); tests use it for a local TLS server. */
  ca?: string;
}

/**
 * The connection's DNS, answered from the guard's checked addresses only: no second lookup, so
 * what was checked is what is connected to. TLS SNI, certificate checks and `Host` still use the
 * URL's host name, because the request itself names the host and only the lookup is replaced.
 */
function pinnedLookup(target: Target): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    const family = options.family === 4 || options.family === 6 ? options.family : undefined;
    const answers: LookupAddress[] = target.addresses.filter((a) => family === undefined || a.family === family);
    const first = answers[0];
    if (hostname !== target.host || !first) {
      const error = Object.assign(new Error(`no checked address for ${hostname}`), { code: 'ENOTFOUND' });
      return callback(error, '', 0);
    }
    if (options.all) return callback(null, answers);
    return callback(null, first.address, first.family);
  }) as LookupFunction;
}

/** A transport failure as a stable reason. */
function classify(error: unknown, origin: string): Error {
  if (isHarnessError(error)) return error;
  const code = String((error as NodeJS.ErrnoException).code ?? '');
  const detail = code || (error as Error).message;
  if (code === 'HPE_HEADER_OVERFLOW') return responseTooLarge(`the response headers from ${origin} are too large`);
  if (code.startsWith('HPE_') || code.startsWith('Z_') || code === 'ERR_STREAM_PREMATURE_CLOSE')
    return webError('bad_response', `${origin} sent a malformed response (${detail})`);
  if (/CERT|SSL|TLS|SIGNATURE|UNABLE_TO|SELF_SIGNED/.test(code))
    return webError('tls_error', `TLS with ${origin} failed (${detail})`);
  // Refused, reset, unreachable, a socket hang-up: the network, worth a retry.
  return webError('network_error', `${origin}: ${detail}`);
}

/** Send one request to a target the guard admitted; resolves with the response once its headers are in. */
export function send(target: Target, options: SendOptions): Promise<IncomingMessage> {
  const origin = target.url.origin;
  return new Promise((resolve, reject) => {
    const client = target.url.protocol === 'https:' ? https : http;
    const request = client.request({
      host: target.host,
      port: target.port,
      path: `${target.url.pathname}${target.url.search}`,
      method: options.method,
      headers: options.headers,
      lookup: pinnedLookup(target),
      // A fresh agent per request: no pooled socket ever serves another (differently checked) target.
      agent: false,
      maxHeaderSize: options.maxHeaderBytes,
      ...(options.ca ? { ca: options.ca } : {}),
    });
    const firstByte = setTimeout(
      () => request.destroy(webError('timeout', `no response from ${origin} within ${options.firstByteTimeoutMs} ms`)),
      options.firstByteTimeoutMs,
    );
    const onAbort = () => request.destroy(options.signal.reason);
    options.signal.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      clearTimeout(firstByte);
      options.signal.removeEventListener('abort', onAbort);
    };
    request.on('response', (response) => {
      settle();
      resolve(response);
    });
    request.on('error', (error) => {
      settle();
      reject(classify(error, origin));
    });
    if (options.signal.aborted) return onAbort();
    request.end(options.body);
  });
}

/** Decoders for a Content-Encoding list, in the order to apply them; undefined when one is unknown. */
function decodersFor(contentEncoding: string | undefined): Transform[] | undefined {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
  if (codings.length > 2) return undefined;
  const decoders: Transform[] = [];
  for (const coding of codings.reverse()) {
    if (coding === 'gzip' || coding === 'x-gzip') decoders.push(zlib.createGunzip());
    else if (coding === 'br') decoders.push(zlib.createBrotliDecompress());
    else if (coding === 'deflate') decoders.push(zlib.createInflate());
    else return undefined;
  }
  return decoders;
}

/** Raised inside the pipeline when the compressed bytes alone pass the limit. */
class WireLimitReached extends Error {}

/** Passes bytes through, failing once more than `max` went by. */
function wireCounter(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(seen > max ? new WireLimitReached() : null, chunk);
    },
  });
}

export interface ReadBody {
  bytes: Buffer;
  truncated: boolean;
}

/**
 * Read a response body, decompressed, keeping at most `maxBytes`. Decoded bytes and bytes on the
 * wire are both counted, so neither an endless body nor a compression bomb gets past the limit,
 * and the connection is destroyed the moment it is reached.
 */
export async function readBody(
  response: IncomingMessage,
  origin: string,
  maxBytes: number,
  signal: AbortSignal,
): Promise<ReadBody> {
  const onAbort = () => response.destroy(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const chunks: Buffer[] = [];
  let kept = 0;
  try {
    signal.throwIfAborted();
    const encoding = response.headers['content-encoding'];
    const decoders = decodersFor(encoding);
    if (!decoders) throw webError('bad_response', `${origin} used an unsupported content-encoding (${encoding})`);
    const body: Readable = decoders.length
      ? (pipeline([response, wireCounter(maxBytes), ...decoders], () => {}) as unknown as Readable)
      : response;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      const room = maxBytes - kept;
      if (chunk.length > room) {
        chunks.push(chunk.subarray(0, room));
        kept = maxBytes;
        return { bytes: Buffer.concat(chunks, kept), truncated: true };
      }
      chunks.push(chunk);
      kept += chunk.length;
    }
    return { bytes: Buffer.concat(chunks, kept), truncated: false };
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof WireLimitReached) return { bytes: Buffer.concat(chunks, kept), truncated: true };
    throw classify(error, origin);
  } finally {
    signal.removeEventListener('abort', onAbort);
    response.destroy();
  }
}
