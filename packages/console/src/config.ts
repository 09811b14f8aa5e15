import { ConfigError } from '@iii-harness/runtime';
import { z } from 'zod';

export const DEFAULT_PORT = 3113;

export const configSchema = z
  .object({
    /** Listen address. Anything but loopback requires the access token. */
    host: z.string().min(1).default('127.0.0.1'),
    /** HTTP and WebSocket port of the page; 0 picks a free one. */
    port: z.number().int().min(0).max(65_535).default(DEFAULT_PORT),
    /**
     * Access token the page must present. Unset: none on loopback, a random one printed at start
     * when bound elsewhere. Set: required on any address (keep it to survive restarts).
     */
    token: z.string().min(16, 'a token has at least 16 characters').max(256).optional(),
    /** More page origins accepted on the WebSocket, e.g. behind a reverse proxy (`https://console.example`). */
    allowed_origins: z.array(z.url()).default([]),
    /** Default time a page's call may take; `/compact` gets compact_timeout_ms. */
    call_timeout_ms: z.number().int().positive().max(600_000).default(30_000),
    compact_timeout_ms: z.number().int().positive().max(900_000).default(330_000),
    /** Largest frame a page may send (a long message, a pasted key). */
    max_frame_bytes: z
      .number()
      .int()
      .min(1_024)
      .max(64 * 1_048_576)
      .default(4 * 1_048_576),
    /** Pages connected at once; more are refused until one closes. */
    max_pages: z.number().int().positive().max(1_000).default(32),
    /** Calls one page may have in flight; more are refused (`unavailable`, retryable). */
    max_inflight_per_page: z.number().int().positive().max(1_000).default(32),
    /** A page that reads slower than this much queued output is dropped (it reconnects and re-reads). */
    max_buffered_bytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1_048_576),
  })
  .strict();
export type Config = z.infer<typeof configSchema>;

export const envOverrides = {
  IIH_CONSOLE_HOST: 'host',
  IIH_CONSOLE_PORT: 'port',
  IIH_CONSOLE_TOKEN: 'token',
};

export interface ConsoleFlags {
  url?: string;
  config?: string;
  logLevel?: string;
  host?: string;
  port?: number;
  token?: string;
  help: boolean;
  version: boolean;
}

const VALUE_FLAGS = new Set(['--url', '--config', '--log-level', '--host', '--port', '--token']);

/** `iii-harness-console` flags: the worker flags plus `--host`, `--port` and `--token`. */
export function parseConsoleFlags(argv: readonly string[]): ConsoleFlags {
  const flags: ConsoleFlags = { help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name === '--help' || name === '-h') {
      flags.help = true;
      continue;
    }
    if (name === '--version') {
      flags.version = true;
      continue;
    }
    if (!VALUE_FLAGS.has(name)) throw new ConfigError(`unknown option "${arg}" (see --help)`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value.startsWith('--')) throw new ConfigError(`${name} needs a value`);
    switch (name) {
      case '--url':
        flags.url = value;
        break;
      case '--config':
        flags.config = value;
        break;
      case '--log-level':
        flags.logLevel = value;
        break;
      case '--host':
        flags.host = value;
        break;
      case '--token':
        flags.token = value;
        break;
      case '--port': {
        const port = Number(value);
        if (!Number.isInteger(port) || port < 0 || port > 65_535)
          throw new ConfigError(`--port must be an integer from 0 to 65535; got "${value}"`);
        flags.port = port;
        break;
      }
    }
  }
  return flags;
}

export const HELP = (
  version: string | undefined,
) => `iii-harness-console ${version ?? ''}: the iii-harness web console (chat, approvals, models, traces, budgets)

Usage: iii-harness-console [--url ws://127.0.0.1:49134] [--port 3113] [--host 127.0.0.1] [--token <t>]

Options:
  --url <ws-url>       engine address (default: $III_URL or ws://127.0.0.1:49134)
  --port <n>           page port (default 3113; 0 = any free port)
  --host <addr>        listen address (default 127.0.0.1). Off loopback an access token is required:
                       a random one is printed at start unless --token gives one
  --token <t>          access token (at least 16 characters); required on any address when given
  --config <file>      YAML file; this worker reads its "console:" section
  --log-level <level>  fatal|error|warn|info|debug|trace|silent (default: info, or $LOG_LEVEL)
  --version            print the version
  -h, --help           show this help

Environment overrides (win over the config file; flags win over both):
  IIH_CONSOLE_HOST             host
  IIH_CONSOLE_PORT             port
  IIH_CONSOLE_TOKEN            token

Exit codes: 0 clean shutdown, 1 runtime failure (port in use), 2 bad flags or config.`;
