import { z } from 'zod';
import { parseAllowEntry } from './host-policy.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A per-call setting: what a call gets when it does not ask, and the most it may ask for. */
const callLimit = (defaults: { default: number; max: number }, min = 1) =>
  z
    .object({
      default: z.number().int().min(min).default(defaults.default),
      max: z.number().int().min(min).default(defaults.max),
    })
    .strict()
    .prefault({})
    .refine((limit) => limit.default <= limit.max, 'default must not exceed max');

/** A host name (`wiki.corp.example`), a wildcard (`*.corp.example`), an address or a CIDR range. */
const allowEntry = z
  .string()
  .trim()
  .toLowerCase()
  .refine(
    (entry) => parseAllowEntry(entry) !== undefined,
    'expected a host name, *.suffix, an IP address or a CIDR range',
  );

export const configSchema = z
  .object({
    /**
     * Total time of one call, redirects included. The default stays under iii-sdk's 30 s
     * invocation timeout, so a caller gets web's own `timeout` rather than a bare bus timeout.
     */
    timeout_ms: callLimit({ default: 25_000, max: 120_000 }),
    /** Body bytes kept after decompression; the rest is cut (`truncated: true`). */
    max_bytes: callLimit({ default: 2 * MiB, max: 10 * MiB }),
    /** Redirects followed. */
    max_redirects: callLimit({ default: 5, max: 10 }, 0),
    /** Time from sending a request (each hop) to its response headers: connect, TLS and server think time. */
    first_byte_timeout_ms: z.number().int().positive().default(15_000),
    /** Size of one response's headers (Node's own default is 16 KiB). */
    max_header_bytes: z
      .number()
      .int()
      .min(KiB)
      .default(16 * KiB),
    /** Size of a request body. */
    max_request_bytes: z.number().int().positive().default(MiB),
    /** HTML converted to markdown (the rest is cut, `truncated: true`): conversion is synchronous CPU work. */
    markdown_max_html_bytes: z.number().int().positive().default(MiB),
    /** Length of a URL (initial or redirect target). */
    max_url_length: z
      .number()
      .int()
      .positive()
      .default(8 * KiB),
    user_agent: z.string().min(1).default('iii-harness-web/0.1 (+https://github.com/iii-harness/iii-harness)'),
    /**
     * Private hosts an operator really wants agents to reach: host names (`wiki.corp.example`,
     * `*.corp.example`: the host-name blocklist and the private ranges no longer apply to them),
     * addresses or CIDR ranges (`10.20.0.0/16`: addresses in them pass). Cloud metadata addresses
     * stay blocked whatever this says.
     */
    allow_private: z.array(allowEntry).default([]),
  })
  .strict();
export type Config = z.output<typeof configSchema>;

export const envOverrides = {
  IIH_WEB_TIMEOUT_MS: 'timeout_ms.default',
  IIH_WEB_MAX_BYTES: 'max_bytes.default',
  IIH_WEB_ALLOW_PRIVATE: 'allow_private',
  IIH_WEB_USER_AGENT: 'user_agent',
};
