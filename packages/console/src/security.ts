import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * Who may use the console. On loopback without a token: only requests whose Host names loopback
 * (a DNS-rebinding page cannot pass) and, on the WebSocket, whose Origin is that same host (another
 * site's page cannot drive it). Off loopback, or when a token is configured: every request must
 * carry the token, as the `?token=` of the URL printed at start (exchanged for an HttpOnly,
 * SameSite=Strict cookie), the cookie, or an `Authorization: Bearer` header.
 */

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost']);

export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(bare)) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || bare === '::ffff:127.0.0.1';
  return false;
}

/** 32 random bytes, URL-safe: what a person copies from the terminal. */
export const generateToken = (): string => randomBytes(32).toString('base64url');

/** Constant-time comparison (of digests, so lengths do not leak either). */
export function tokensEqual(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

export interface GuardOptions {
  host: string;
  port: number;
  token?: string;
  allowedOrigins: readonly string[];
}

export class AccessGuard {
  readonly tokenRequired: boolean;
  private readonly token?: string;
  private readonly loopbackHosts: Set<string>;
  private readonly extraOrigins: Set<string>;
  readonly cookieName: string;

  constructor(options: GuardOptions) {
    this.token = options.token;
    this.tokenRequired = options.token !== undefined;
    const port = options.port;
    this.loopbackHosts = new Set(
      ['127.0.0.1', 'localhost', '[::1]'].flatMap((h) => [`${h}:${port}`, ...(port === 80 ? [h] : [])]),
    );
    this.extraOrigins = new Set(options.allowedOrigins.map((o) => new URL(o).origin));
    // Cookies are per host, not per port: two consoles on one machine must not share one.
    this.cookieName = `iii_console_${port}`;
  }

  /** The Host header names this console (DNS-rebinding defence when no token protects it). */
  hostAllowed(req: IncomingMessage): boolean {
    if (this.tokenRequired) return true;
    return this.loopbackHosts.has((req.headers.host ?? '').toLowerCase());
  }

  /** The request carries the token (cookie or bearer); always true when none is required. */
  authorized(req: IncomingMessage): boolean {
    if (!this.token) return true;
    const cookie = parseCookies(req.headers.cookie).get(this.cookieName);
    if (cookie !== undefined && tokensEqual(cookie, this.token)) return true;
    const auth = req.headers.authorization;
    return auth?.startsWith('Bearer ') === true && tokensEqual(auth.slice(7).trim(), this.token);
  }

  /** A `?token=` that matches: the caller sets the cookie and redirects to the same URL without it. */
  queryTokenValid(url: URL): boolean {
    const given = url.searchParams.get('token');
    return this.token !== undefined && given !== null && tokensEqual(given, this.token);
  }

  sessionCookie(): string {
    return `${this.cookieName}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /**
   * The WebSocket's Origin is this console's own (same host as the request) or a configured one.
   * A missing Origin is refused: browsers always send it, and only the page is served here.
   */
  originAllowed(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin) return false;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return false;
    }
    if (this.extraOrigins.has(parsed.origin)) return true;
    const host = (req.headers.host ?? '').toLowerCase();
    return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.host.toLowerCase() === host;
  }
}

/**
 * No inline script or style, nothing from another origin, no framing. `connect-src 'self'`
 * covers the page's own WebSocket (CSP 3 matches ws: for a same-host http: page).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const BASE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
};
