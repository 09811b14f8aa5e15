/**
 * `iii-dev-engine` command line. Bad flags or a bad config exit with code 2 and one clear line.
 */
import { ConfigError, loadConfigFile } from './config.js';
import {
  DEFAULT_HOST,
  DEFAULT_HTTP_PORT,
  DEFAULT_PORT,
  type EngineOptions,
  type RunningEngine,
  startEngine,
} from './engine.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import type { SecurityOptions } from './security/options.js';

export interface CliFlags {
  config?: string;
  port?: number;
  host?: string;
  httpPort?: number;
  dataDir?: string;
  memory: boolean;
  logLevel?: LogLevel;
  security: Partial<SecurityOptions>;
  help: boolean;
  version: boolean;
}

export const HELP = `Usage: iii-dev-engine [options]

A single-process iii engine speaking the iii v0.22.1 worker protocol, for development, tests and CI.

Options:
  --config <file>      Read a real-engine config.yaml (workers: iii-worker-manager, iii-state,
                       iii-stream, iii-http, iii-pubsub, iii-cron, iii-queue). Without it every
                       builtin is enabled.
  --port <n>           Worker WebSocket port (default ${DEFAULT_PORT}; 0 = any free port)
  --host <host>        Listen host for the worker and HTTP ports (default ${DEFAULT_HOST})
  --http-port <n>      HTTP trigger port (default ${DEFAULT_HTTP_PORT}; 0 = any free port)
  --data-dir <dir>     Where engine.db (SQLite) lives (default ./.iii-data)
  --memory             Keep state, streams and queues in memory only
  --log-level <level>  ${LOG_LEVELS.join(' | ')} (default info)
  --allowed-origins <list>
                       Comma-separated browser origins allowed to open the engine's sockets:
                       exact origins, "loopback" (any port on 127.0.0.1/localhost/[::1]) or "*"
                       (default loopback). Clients that send no Origin are always accepted.
  --max-connections <n>
                       Open sockets per worker listener before idle ones are evicted (default 512)
  --idle-timeout-ms <n>
                       Close WebSockets silent (no pong) for this long (default 60000; 0 = never)
  --max-outbound-bytes <n>
                       Close a connection with more unsent data than this (default 67108864)
  -h, --help           Show this help
  --version            Print the version
`;

function portValue(name: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535)
    throw new ConfigError(`${name} must be a port number (0-65535); got "${text}"`);
  return Number(text);
}

function countValue(name: string, text: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text)))
    throw new ConfigError(`${name} must be an integer >= ${min}; got "${text}"`);
  return Number(text);
}

export function parseFlags(argv: readonly string[]): CliFlags {
  const flags: CliFlags = { memory: false, help: false, version: false, security: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--')))
        throw new ConfigError(`${name} needs a value`);
      return v;
    };
    const noValue = () => {
      if (inline !== undefined) throw new ConfigError(`${name} takes no value`);
    };
    switch (name) {
      case '-h':
      case '--help':
        noValue();
        flags.help = true;
        break;
      case '--version':
        noValue();
        flags.version = true;
        break;
      case '--memory':
        noValue();
        flags.memory = true;
        break;
      case '--config':
        flags.config = value();
        break;
      case '--port':
        flags.port = portValue(name, value());
        break;
      case '--http-port':
        flags.httpPort = portValue(name, value());
        break;
      case '--host':
        flags.host = value();
        break;
      case '--data-dir':
        flags.dataDir = value();
        break;
      case '--allowed-origins':
        flags.security.allowedOrigins = value()
          .split(',')
          .map((o) => o.trim())
          .filter((o) => o.length > 0);
        break;
      case '--max-connections':
        flags.security.maxConnections = countValue(name, value(), 1);
        break;
      case '--idle-timeout-ms':
        flags.security.idleTimeoutMs = countValue(name, value(), 0);
        break;
      case '--max-outbound-bytes':
        flags.security.maxOutboundBytes = countValue(name, value(), 1);
        break;
      case '--log-level': {
        const level = value();
        if (!(LOG_LEVELS as readonly string[]).includes(level))
          throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}; got "${level}"`);
        flags.logLevel = level as LogLevel;
        break;
      }
      default:
        throw new ConfigError(`unknown option ${name} (see --help)`);
    }
  }
  return flags;
}

export interface CliIo {
  version: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Run the CLI; resolves with an exit code for --help/--version/errors, or stays up until a signal. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number | undefined> {
  let options: EngineOptions;
  try {
    const flags = parseFlags(argv);
    if (flags.help) {
      io.out(HELP);
      return 0;
    }
    if (flags.version) {
      io.out(`${io.version}\n`);
      return 0;
    }
    options = {
      config: flags.config ? loadConfigFile(flags.config) : undefined,
      port: flags.port,
      host: flags.host,
      httpPort: flags.httpPort,
      dataDir: flags.dataDir,
      memory: flags.memory,
      logLevel: flags.logLevel,
      security: flags.security,
    };
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`iii-dev-engine: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  let engine: RunningEngine;
  try {
    engine = await startEngine(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`iii-dev-engine: ${error.message}\n`);
      return 2;
    }
    const code = (error as NodeJS.ErrnoException).code;
    io.err(
      `iii-dev-engine: cannot start: ${code === 'EADDRINUSE' ? `address already in use (${(error as Error).message})` : (error as Error).message}\n`,
    );
    return 1;
  }
  const running = engine;
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return undefined;
}
