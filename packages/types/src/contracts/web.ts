import { z } from 'zod';
import { contract } from '../contract.js';

/**
 * The `web` worker: the HTTP tool agents use. Every request passes an SSRF guard (scheme, host
 * name, every resolved address, every redirect hop) and size and time limits; the worker's README
 * lists the blocked ranges and the error reasons (`bad_url`, `bad_header`, `blocked`, `timeout`,
 * `too_large`, `too_many_redirects`, `http_error`, ...).
 */

export const webFetchMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** `markdown`: readable markdown of an HTML page (other text as is); `text`: the decoded body; `raw`: base64 bytes. */
export const webFetchFormat = z.enum(['markdown', 'text', 'raw']);
export type WebFetchFormat = z.output<typeof webFetchFormat>;

export const webFetchInput = z
  .object({
    url: z.string().min(1).describe('Absolute http:// or https:// URL'),
    method: z.enum(webFetchMethods).default('GET'),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe(
        'Request headers; Host, Content-Length, Connection, Accept-Encoding and the like are set by web::fetch',
      ),
    body: z.string().optional().describe('Request body (UTF-8 text); not with GET or HEAD'),
    timeout_ms: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Total time for the whole call, redirects included (capped by the worker's config)"),
    max_bytes: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Body bytes kept (after decompression); a longer body is cut and truncated is true (capped by config)'),
    format: webFetchFormat
      .default('markdown')
      .describe('markdown: readable text of an HTML page; text: the body as text; raw: the exact bytes, base64'),
    max_redirects: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Redirects to follow (0: return the redirect response itself; capped by config)'),
    fail_on_http_error: z
      .boolean()
      .default(false)
      .describe('true: a 4xx/5xx status fails the call (reason http_error) instead of being returned'),
  })
  .strict();

const fetchedResponse = z.object({
  status: z.number().int(),
  status_text: z.string(),
  url: z.string().describe('The final URL, after redirects'),
  redirects: z.array(z.string()).describe('The URLs that redirected, in order'),
  headers: z.record(z.string(), z.string()).describe('Response headers, lower-case names, repeated ones joined'),
  content_type: z.string().optional().describe('Media type without parameters, lower case'),
  truncated: z.boolean().describe('true when the body was cut at max_bytes'),
  bytes: z.number().int().nonnegative().describe('Body bytes kept (after decompression)'),
});

export const webFetchOutput = z.discriminatedUnion('format', [
  fetchedResponse.extend({
    format: z.literal('markdown'),
    markdown: z.string(),
    title: z.string().optional(),
    charset: z.string(),
  }),
  fetchedResponse.extend({ format: z.literal('text'), text: z.string(), charset: z.string() }),
  fetchedResponse.extend({ format: z.literal('raw'), body: z.string().describe('The body bytes, base64') }),
]);
export type WebFetchOutput = z.output<typeof webFetchOutput>;

export const web = {
  fetch: contract({
    id: 'web::fetch',
    description:
      'Fetch an http(s) URL: readable markdown of a page, text, or base64 bytes; private, loopback and cloud-metadata addresses are refused, size and time are limited',
    input: webFetchInput,
    output: webFetchOutput,
  }),
};
