/**
 * Throwaway Redis and RabbitMQ servers for tests and local multi-engine runs
 * (`@iii-harness/dev-engine/services`): Debian's `redis-server` and `rabbitmq-server`
 * (`apt-get install redis-server rabbitmq-server`), each on free loopback ports with its data in a
 * temporary directory that is removed when it stops. A server is started in its own process group
 * with a watchdog that kills the group once the process that started it is gone, so a crashed test
 * run leaves no server behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as amqpConnect } from 'amqplib';
import { Redis } from 'ioredis';

export interface LocalService {
  /** `redis://127.0.0.1:<port>` or `amqp://guest:guest@127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** Where its data lives (removed by `stop`). */
  dir: string;
  /** kill -9 the server and remove its data. */
  stop(): Promise<void>;
}

export interface ServiceOptions {
  /** Give up on startup after this long (default 60 s: RabbitMQ boots in ~3–10 s on a busy 2-core VM). */
  startTimeoutMs?: number;
  /** Executable (default `redis-server` / `/usr/lib/rabbitmq/bin/rabbitmq-server`). */
  command?: string;
}

const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** A port free right now (bound and released; a server that loses the race is retried). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/** `redis-server` without persistence on a free port. */
export async function startRedisServer(options: ServiceOptions = {}): Promise<LocalService> {
  return withPortRetries(async () => {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'iii-redis-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
    const proc = spawnGuarded(options.command ?? 'redis-server', args, {});
    const url = `redis://127.0.0.1:${port}`;
    await waitUntilReady(proc, dir, options.startTimeoutMs, async () => {
      const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined); // the probe's rejection is enough
      try {
        await client.connect();
        await client.ping();
      } finally {
        client.disconnect();
      }
    });
    return service(url, port, dir, proc);
  });
}

/** A single RabbitMQ node (its own node name, AMQP and distribution ports, data and log dirs). */
export async function startRabbitMq(options: ServiceOptions = {}): Promise<LocalService> {
  const command = options.command ?? RABBITMQ_SERVER;
  if (!existsSync(command)) throw new Error(`${command} not found: apt-get install -y rabbitmq-server`);
  return withPortRetries(async () => {
    const port = await freePort();
    const distPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'iii-rabbitmq-'));
    writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\n`);
    writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
    const env: NodeJS.ProcessEnv = {
      // The Erlang cookie is written to $HOME; keep it with the node's data.
      HOME: dir,
      RABBITMQ_NODENAME: `iii-${port}@localhost`,
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      RABBITMQ_LOGS: '-',
      RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
      RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
      // No /etc/rabbitmq/rabbitmq-env.conf: it could pin the node name or port.
      RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
      // An epmd started by this node listens on loopback only (an already running one is reused).
      ERL_EPMD_ADDRESS: '127.0.0.1',
    };
    const proc = spawnGuarded(command, [], env);
    const url = `amqp://guest:guest@127.0.0.1:${port}`;
    await waitUntilReady(proc, dir, options.startTimeoutMs, async () => {
      const connection = await amqpConnect(url);
      await connection.close();
    });
    return service(url, port, dir, proc);
  });
}

function service(url: string, port: number, dir: string, proc: ChildProcess): LocalService {
  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    dir,
    stop: () =>
      (stopping ??= (async () => {
        killGroup(proc);
        await exited(proc);
        rmSync(dir, { recursive: true, force: true });
      })()),
  };
}

/**
 * Runs `command` in a new process group next to a watchdog that kills the group when this
 * process (the one starting the server) is gone.
 */
function spawnGuarded(command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const script = `( while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -KILL 0 ) & exec "$0" "$@"`;
  const proc = spawn('/bin/sh', ['-c', script, command, ...args], {
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  for (const stream of [proc.stdout, proc.stderr])
    stream?.on('data', (chunk: Buffer) => {
      output.push(String(chunk));
      if (output.length > 200) output.shift();
    });
  (proc as ChildProcess & { output: string[] }).output = output;
  // Killed with its group when this process exits normally, too.
  const onExit = () => killGroup(proc);
  process.once('exit', onExit);
  proc.once('exit', () => process.removeListener('exit', onExit));
  return proc;
}

function killGroup(proc: ChildProcess): void {
  if (proc.pid === undefined) return;
  try {
    process.kill(-proc.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((done) => proc.once('exit', () => done()));
}

/** Until `probe` succeeds; on failure the server is killed and its directory removed. */
async function waitUntilReady(
  proc: ChildProcess,
  dir: string,
  timeoutMs = 60_000,
  probe: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  const fail = async (error: Error): Promise<never> => {
    killGroup(proc);
    await exited(proc);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  };
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      const output = (proc as ChildProcess & { output: string[] }).output.join('').slice(-2000);
      return fail(new ServiceExitedError(`server exited during startup (code ${proc.exitCode}):\n${output}`));
    }
    try {
      await probe();
      return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return fail(new Error(`server not ready after ${timeoutMs} ms: ${(lastError as Error | undefined)?.message ?? ''}`));
}

class ServiceExitedError extends Error {}

/** A server that exits at once usually lost its port to someone else: try other ports. */
async function withPortRetries(start: () => Promise<LocalService>): Promise<LocalService> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (!(error instanceof ServiceExitedError) || attempt >= 3) throw error;
    }
  }
}
