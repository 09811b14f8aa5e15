/**
 * The engine's protective limits. None of these exist as config keys in the real engine (whose
 * `config.yaml` sections reject unknown keys), so they are `startEngine` options and CLI flags,
 * never config.yaml entries. Defaults are safe for a developer machine: browsers on foreign
 * origins are refused, a client that stops reading is cut off, idle and half-open sockets are
 * closed, and silent sockets cannot exhaust the file-descriptor table.
 */

export interface SecurityOptions {
  /**
   * Origins a browser may open the worker, channel and telemetry sockets from. A request without
   * an `Origin` header (every non-browser client) is always accepted. Entries: an exact origin
   * (`https://console.example`), `loopback` (http/https on 127.0.0.1, localhost or [::1], any
   * port), or `*` (any origin). Default `['loopback']`.
   */
  allowedOrigins: string[];
  /** A connection whose unsent outbound data exceeds this is closed (default 64 MiB). */
  maxOutboundBytes: number;
  /** Above this much unsent outbound data, the connection's inbound frames wait (default 8 MiB). */
  outboundHighWaterBytes: number;
  /** A connection paused that way whose unsent data does not shrink for this long is closed (ms). */
  outboundStallTimeoutMs: number;
  /** A socket that has not completed its WebSocket upgrade after this long is closed (ms). */
  handshakeTimeoutMs: number;
  /** The engine pings every WebSocket this often (ms; 0 = never). */
  pingIntervalMs: number;
  /** A WebSocket from which nothing (not even a pong) arrived for this long is closed (ms; 0 = never). */
  idleTimeoutMs: number;
  /**
   * Open sockets on one worker listener, upgraded or not; above it idle ones are evicted
   * (default 512, which with the HTTP port's 256 stays under a 1,024 file-descriptor limit).
   */
  maxConnections: number;
  /** Deepest JSON nesting accepted in a frame, an HTTP body or a telemetry batch (the real engine's serde limit: 128). */
  maxJsonDepth: number;
}

export const DEFAULT_SECURITY: SecurityOptions = {
  allowedOrigins: ['loopback'],
  maxOutboundBytes: 64 * 1024 * 1024,
  outboundHighWaterBytes: 8 * 1024 * 1024,
  outboundStallTimeoutMs: 30_000,
  handshakeTimeoutMs: 10_000,
  pingIntervalMs: 20_000,
  idleTimeoutMs: 60_000,
  maxConnections: 512,
  maxJsonDepth: 128,
};

export function resolveSecurity(partial: Partial<SecurityOptions> = {}): SecurityOptions {
  const resolved = { ...DEFAULT_SECURITY };
  for (const [key, value] of Object.entries(partial) as Array<[keyof SecurityOptions, never]>)
    if (value !== undefined) resolved[key] = value;
  return resolved;
}
