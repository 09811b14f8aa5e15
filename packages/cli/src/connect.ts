import { appendFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { Bus, DEFAULT_III_URL } from '@iii-harness/runtime';
import { type IIIClient, registerWorker } from 'iii-sdk';
import { CliError } from './errors.js';

export const engineUrl = (flag?: string): string => flag ?? process.env.III_URL ?? DEFAULT_III_URL;

/** Whether something accepts TCP connections at the engine URL's host and port. */
export function engineReachable(url: string, timeoutMs = 2_000): Promise<boolean> {
  let host: string;
  let port: number;
  try {
    const parsed = new URL(url);
    host = parsed.hostname.replace(/^\[|\]$/g, '');
    port = Number(parsed.port || (parsed.protocol === 'wss:' ? 443 : 80));
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const notRunning = (url: string) =>
  new CliError(`the engine is not running at ${url}: start it with \`iii-harness dev\` (or pass --url / set III_URL)`);

/**
 * iii-sdk reports reconnects and socket errors with console.debug / console.error. A terminal UI
 * cannot have them on screen, so the CLI sends them to a log file (or drops them).
 */
export function captureSdkConsole(logFile?: string): void {
  const sink =
    (level: string) =>
    (...args: unknown[]) => {
      if (!logFile) return;
      const line = args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a)));
      try {
        appendFileSync(logFile, `${new Date().toISOString()} ${level} ${line.join(' ')}\n`);
      } catch {
        // a log we cannot write is not worth failing a command for
      }
    };
  console.debug = sink('debug');
  console.info = sink('info');
  console.warn = sink('warn');
  console.error = sink('error');
  console.log = sink('log');
}

export interface Connection {
  url: string;
  client: IIIClient;
  bus: Bus;
  close(): Promise<void>;
}

/**
 * Connect to the engine as a bus client. Fails fast, with one line, when nothing listens at the
 * URL: iii-sdk would otherwise retry forever in silence.
 */
export async function connectEngine(url: string, name = 'iii-harness-cli'): Promise<Connection> {
  if (!(await engineReachable(url))) throw notRunning(url);
  process.env.OTEL_ENABLED ??= 'false';
  const client = registerWorker(url, {
    workerName: name,
    workerDescription: 'iii-harness command line',
    enableMetricsReporting: false,
    otel: { enabled: false },
    invocationTimeoutMs: 30_000,
    // A person is waiting: try again soon after the engine comes back, not after a long backoff.
    reconnectionConfig: { initialDelayMs: 200, maxDelayMs: 2_000 },
  });
  return {
    url,
    client,
    bus: new Bus(client),
    close: () => client.shutdown(),
  };
}

/** `connected` while the socket is open; iii-sdk keeps the state on the client without an event for it. */
export function connectionState(client: IIIClient): string | undefined {
  const state = (client as unknown as { connectionState?: unknown }).connectionState;
  return typeof state === 'string' ? state : undefined;
}
