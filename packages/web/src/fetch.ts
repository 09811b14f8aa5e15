import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Handler } from '@iii-harness/runtime';
import type { contracts, WebFetchOutput } from '@iii-harness/types';
import { type BodyKind, decodeText, kindByBytes, kindByHeader, type MediaType, mediaTypeOf } from './content.js';
import { httpError, webError } from './errors.js';
import { type FetcherDeps, fetchFollowingRedirects } from './fetcher.js';
import { htmlToMarkdown } from './markdown.js';
import { type PreparedRequest, prepareRequest } from './request.js';
import { type ReadBody, readBody } from './transport.js';

/** One abort signal for the whole call: it fires `timeout` when the total time runs out. */
function deadline(ms: number): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(webError('timeout', `the fetch took longer than ${ms} ms`)), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

const binaryRefused = (url: URL, media: MediaType) =>
  webError(
    'binary_content',
    `${url.href} is ${media.essence ?? 'binary content'}, not text; ask again with format: raw to get it base64-encoded`,
  );

type Content =
  | { format: 'markdown'; markdown: string; title?: string; charset: string }
  | { format: 'text'; text: string; charset: string }
  | { format: 'raw'; body: string };

/** The body in the asked format; markdown only for HTML (other text comes back as text). */
function render(body: ReadBody, kind: BodyKind, media: MediaType, request: PreparedRequest, url: URL): Content {
  const { bytes, truncated } = body;
  if (request.format === 'raw') return { format: 'raw', body: bytes.toString('base64') };
  if (kind === 'binary') throw binaryRefused(url, media);
  const { text, charset } = decodeText(bytes, media, kind === 'html', truncated);
  if (request.format === 'markdown' && kind === 'html')
    return { format: 'markdown', ...htmlToMarkdown(text, url.href), charset };
  return { format: 'text', text, charset };
}

/**
 * HTML becomes markdown synchronously (parse, Readability, Turndown: about a second of CPU per MiB,
 * during which this worker serves nothing else), so only its first `markdownMaxBytes` are converted.
 */
function cutForMarkdown(body: ReadBody, kind: BodyKind, request: PreparedRequest, markdownMaxBytes: number): ReadBody {
  if (request.format !== 'markdown' || kind !== 'html' || body.bytes.length <= markdownMaxBytes) return body;
  return { bytes: body.bytes.subarray(0, markdownMaxBytes), truncated: true };
}

async function readAndRender(
  response: IncomingMessage,
  request: PreparedRequest,
  url: URL,
  deps: FetcherDeps,
  signal: AbortSignal,
): Promise<Content & { bytes: number; truncated: boolean }> {
  const media = mediaTypeOf(response.headers['content-type']);
  const declared = kindByHeader(media);
  const bodiless = request.method === 'HEAD' || response.statusCode === 204 || response.statusCode === 304;
  if (declared === 'binary' && request.format !== 'raw' && !bodiless) {
    response.destroy(); // refused before its body is downloaded
    throw binaryRefused(url, media);
  }
  const markdownMax = deps.config.markdown_max_html_bytes;
  const readMax =
    request.format === 'markdown' && declared === 'html' ? Math.min(request.maxBytes, markdownMax) : request.maxBytes;
  const read = await readBody(response, url.origin, readMax, signal);
  const kind = read.bytes.length === 0 ? 'text' : (declared ?? kindByBytes(read.bytes));
  const body = cutForMarkdown(read, kind, request, markdownMax);
  return { ...render(body, kind, media, request, url), bytes: body.bytes.length, truncated: body.truncated };
}

/** `web::fetch`: validate, follow the guarded redirect chain, read within the limits, render. */
export const webFetch = (deps: FetcherDeps) =>
  (async (input, { logger }) => {
    const request = prepareRequest(input, deps.config);
    const { signal, clear } = deadline(request.timeoutMs);
    try {
      const { response, url, redirects } = await fetchFollowingRedirects(request, deps, signal);
      const status = response.statusCode ?? 0;
      const statusText = response.statusMessage ?? '';
      if (request.failOnHttpError && status >= 400) {
        response.destroy();
        throw httpError(status, statusText, url.href);
      }
      const headers = flatHeaders(response.headers);
      const content = await readAndRender(response, request, url, deps, signal);
      const contentType = mediaTypeOf(headers['content-type']).essence;
      logger.debug(
        { origin: url.origin, status, bytes: content.bytes, truncated: content.truncated, redirects: redirects.length },
        'fetched',
      );
      return {
        status,
        status_text: statusText,
        url: url.href,
        redirects,
        headers,
        ...(contentType ? { content_type: contentType } : {}),
        ...content,
      } satisfies WebFetchOutput;
    } finally {
      clear();
    }
  }) satisfies Handler<typeof contracts.web.fetch>;
