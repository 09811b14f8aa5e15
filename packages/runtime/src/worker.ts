import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Contract, contracts } from '@iii-harness/types';
import { type IIIClient, registerWorker } from 'iii-sdk';
import type { z } from 'zod';
import { Bus } from './bus.js';
import {
  ConfigError,
  DEFAULT_III_URL,
  type LifecycleSettings,
  lifecycleSettings,
  loadWorkerConfig,
  parseWorkerFlags,
  type WorkerFlags,
} from './config.js';
import type { Handler } from './define.js';
import { HarnessError, toWireError } from './errors.js';
import { createHandler, jsonSchemasOf } from './handler.js';
import { Leases } from './lease.js';
import {
  CLOSE_STEP_MS,
  DEFAULT_DRAIN_MS,
  type HealthServer,
  InFlight,
  type Readiness,
  startHealthServer,
  within,
} from './lifecycle.js';
import { createLogger, type Logger } from './logger.js';
import { registerEnvSecrets } from './secrets.js';
import { exportToCollector } from './trace-export.js';
import { ensureContextPropagation, sdkTelemetry } from './tracing.js';

/** Everything a worker package declares about itself; `main.ts` hands it to `runWorkerMain`. */
export interface WorkerSpec<C> {
  /** iii worker name (= unscoped package name), also its config section and log `worker` field. */
  name: string;
  description: string;
  /** The executable's name in --help and errors (default `iii-<name>`). */
  bin?: string;
  /** Shown by --version and --help; main.ts passes `packageVersion(import.meta.url)`. */
  version?: string;
  config: z.ZodType<C>;
  /** Documented environment overrides: variable → dotted config key. */
  env?: Record<string, string>;
  /** The whole bus surface: functions, triggers, queues. */
  register(worker: Worker<C>): void | Promise<void>;
}

export interface StartOptions {
  url?: string;
  /** The worker's config section, already read (validated here). */
  config?: unknown;
  logger?: Logger;
  logLevel?: Parameters<typeof createLogger>[0]['level'];
  /** OpenTelemetry export to the engine; on by default as in iii-sdk (`OTEL_ENABLED` also applies). */
  otel?: boolean;
  invocationTimeoutMs?: number;
  /**
   * Set only when several processes of this worker connect to ONE engine on purpose: the name
   * the engine sees becomes `<name>:<instance>` (default `$IIH_WORKER_INSTANCE`). See `workerNameFor`.
   */
  instance?: string;
}

/**
 * The worker name sent to the engine (`engine::workers::register`; function ids never change).
 *
 * Function registries are per engine and each engine runs one copy of each worker, so the plain
 * `<name>` is already unique where it matters: two copies on two engines never meet. It is also
 * what the console looks for (it gates its approval and chat UI on the exact names `harness`,
 * `approval-gate`). A second live process of the same name on ONE engine is refused by a v0.23+
 * engine (`WORKER_NAMESPACE_CONFLICT`: fatal, the newcomer stops) — the loud failure we want when
 * a copy is started twice by mistake, since its functions would be refused anyway
 * (`FUNCTION_NAMESPACE_CONFLICT`). Only a deliberate second process on one engine names an
 * instance, which gives `<name>:<instance>`. A supervisor's `III_WORKER_NAME` (set by `iii worker
 * add` and compose; newer iii-sdk releases let it win over the code's name) wins here too.
 */
export function workerNameFor(name: string, instance?: string, env: NodeJS.ProcessEnv = process.env): string {
  const managed = env.III_WORKER_NAME?.trim();
  if (managed) return managed;
  const suffix = (instance ?? env.IIH_WORKER_INSTANCE)?.trim();
  return suffix ? `${name}:${suffix}` : name;
}

/** This process among every copy of every worker: `<host>:<pid>:<random>`, e.g. a lease holder. */
export function newInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export interface TriggerSpec {
  type: string;
  function_id: string;
  config: unknown;
  metadata?: Record<string, unknown>;
}

export interface ShutdownOptions {
  /** How long in-flight handlers may run on (default 2.5 s); the rest then fail as `unavailable`. */
  drainMs?: number;
}

export interface ShutdownReport {
  /** Handlers that finished during the drain. */
  drained: number;
  /** Handlers the deadline cut: their callers got `unavailable` (retryable). */
  cut: number;
}

/** How long a readiness probe waits for the engine's answer. */
const READY_PROBE_MS = 2_000;
/**
 * iii-sdk reconnects after 1, 2, 4, 8, 16, then every 30 s: a worker would find a restarted engine
 * up to 30 s late (a step waiting on it all that time). Capped, it is back within ~2 s.
 */
export const RECONNECTION = { initialDelayMs: 500, maxDelayMs: 2_000 } as const;

/** A connected worker: its config, logger, bus, and what it registered. */
export class Worker<C> {
  readonly bus: Bus;
  readonly functionIds: string[] = [];
  /** This process, distinct from every other copy of this worker (lease holder, log field). */
  readonly instanceId = newInstanceId();
  /** Aborted when the worker starts draining: long handlers may watch it to wrap up early. */
  readonly shutdownSignal: AbortSignal;
  private readonly refs = new Map<string, ReturnType<IIIClient['registerFunction']>>();
  private readonly inFlight = new InFlight();
  private readonly shutdownHooks: Array<() => unknown> = [];
  private readonly draining = new AbortController();
  private phase: Readiness = 'starting';
  private stopping?: Promise<ShutdownReport>;
  private ownLeases?: Leases;

  constructor(
    readonly name: string,
    readonly config: C,
    readonly logger: Logger,
    readonly client: IIIClient,
  ) {
    this.bus = new Bus(client);
    this.shutdownSignal = this.draining.signal;
  }

  /**
   * Serve a contract: input validated before `handler` runs, output validated after, JSON Schemas
   * registered for `engine::functions::info`, a span per call, failures as `{code, message}`.
   */
  function<C extends Contract>(contract: C, handler: Handler<C>): void {
    if (this.stopping) {
      // Registering now would take new work while draining.
      this.logger.warn({ function_id: contract.id }, 'not registered: the worker is shutting down');
      return;
    }
    const run = createHandler(contract, handler, { bus: this.bus, logger: this.logger });
    const ref = this.client.registerFunction(
      contract.id,
      (data: unknown, metadata?: unknown) => this.inFlight.track(() => run(data, metadata)),
      {
        description: contract.description,
        ...jsonSchemasOf(contract),
        ...(contract.metadata ? { metadata: { ...contract.metadata } } : {}),
      },
    );
    this.refs.set(contract.id, ref);
    this.functionIds.push(contract.id);
  }

  /** Register a trigger; the handle unregisters it. */
  trigger(spec: TriggerSpec): { unregister(): void } {
    return this.client.registerTrigger({
      type: spec.type,
      function_id: spec.function_id,
      config: spec.config,
      metadata: spec.metadata,
    });
  }

  /** Leases held by this process, in the default lease scope (see `lease.ts`). */
  get leases(): Leases {
    this.ownLeases ??= new Leases(this.bus, this.instanceId);
    return this.ownLeases;
  }

  /** Run `hook` on shutdown, after the drain and before the connection closes (last added, first run). */
  onShutdown(hook: () => unknown): void {
    this.shutdownHooks.push(hook);
  }

  /** Handlers running right now. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** @internal startWorker marks the worker registered. */
  markStarted(): void {
    if (this.phase === 'starting') this.phase = 'ready';
  }

  /**
   * What a readiness probe should say: `ready` only when registered, not draining, and the
   * engine answers a round trip on this connection within 2 s.
   */
  async readiness(): Promise<Readiness> {
    if (this.phase !== 'ready') return this.phase;
    try {
      await this.bus.call(
        contracts.engine.functionsList,
        { prefix: `${this.name}::__ready__` },
        { timeoutMs: READY_PROBE_MS },
      );
      return 'ready';
    } catch {
      return 'engine_unreachable';
    }
  }

  /**
   * Stop for good, gracefully: take no new work (every function is unregistered, so the engine
   * routes nothing more here and queue deliveries wait for another copy), let in-flight handlers
   * finish for `drainMs`, answer the ones still running with `unavailable` (retryable: a queue
   * redelivers its job, a caller may retry), run the shutdown hooks, close the connection.
   * Triggers are left to the engine's disconnect cleanup, so durable subscriptions survive.
   * Calling it again returns the same promise.
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownReport> {
    this.stopping ??= this.stop(options.drainMs ?? DEFAULT_DRAIN_MS);
    return this.stopping;
  }

  private async stop(drainMs: number): Promise<ShutdownReport> {
    this.phase = 'draining';
    for (const ref of this.refs.values()) ref.unregister();
    this.refs.clear();
    this.draining.abort();
    const running = this.inFlight.size;
    this.logger.info({ in_flight: running, drain_ms: drainMs }, 'draining');
    await this.inFlight.idle(drainMs);
    const cut = this.inFlight.cutAll(
      toWireError(
        new HarnessError('unavailable', `${this.name} is shutting down; retry`, {
          reason: 'shutting_down',
          retryable: true,
        }),
      ),
    );
    if (cut) this.logger.warn({ cut }, 'drain deadline passed; cut handlers answered unavailable');
    // Let the SDK send the cut calls' answers before the socket closes.
    await new Promise((resolve) => setImmediate(resolve));
    let hookFailure: unknown;
    for (const hook of [...this.shutdownHooks].reverse()) {
      try {
        await within(Promise.resolve().then(hook), CLOSE_STEP_MS, undefined);
      } catch (error) {
        hookFailure ??= error;
        this.logger.error({ err: error }, 'shutdown hook failed');
      }
    }
    await within(this.client.shutdown(), CLOSE_STEP_MS, undefined);
    this.phase = 'stopped';
    if (hookFailure) throw hookFailure;
    return { drained: running - cut, cut };
  }
}

/**
 * Connect to the engine, register the spec's surface, and resolve once the engine has processed
 * the registrations (a round trip on the same connection, whose frames the engine handles in order).
 */
export async function startWorker<C>(spec: WorkerSpec<C>, options: StartOptions = {}): Promise<Worker<C>> {
  const workerName = workerNameFor(spec.name, options.instance);
  const logger = options.logger ?? createLogger({ worker: spec.name, level: options.logLevel });
  const configResult = spec.config.safeParse(options.config ?? {});
  if (!configResult.success)
    throw new ConfigError(
      `invalid config for ${spec.name}: ${configResult.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  // Keys in this process's environment are masked in its logs, errors and events from the start.
  registerEnvSecrets();
  const url = options.url ?? process.env.III_URL ?? DEFAULT_III_URL;
  const client = registerWorker(url, {
    workerName,
    workerDescription: spec.description,
    invocationTimeoutMs: options.invocationTimeoutMs,
    reconnectionConfig: RECONNECTION,
    enableMetricsReporting: false,
    otel: sdkTelemetry({ name: spec.name, version: spec.version, enabled: options.otel === false ? false : undefined }),
  });
  ensureContextPropagation();
  exportToCollector();
  const worker = new Worker(spec.name, configResult.data, logger, client);
  try {
    await spec.register(worker);
    await worker.bus.call(contracts.engine.functionsList, { prefix: `${spec.name}::__ready__` }, { timeoutMs: 15_000 });
    worker.markStarted();
  } catch (error) {
    await client.shutdown();
    throw error;
  }
  logger.info(
    { url, functions: worker.functionIds.length, worker_name: workerName, instance: worker.instanceId },
    'worker ready',
  );
  return worker;
}

const binOf = <C>(spec: WorkerSpec<C>) => spec.bin ?? `iii-${spec.name}`;

function helpText<C>(spec: WorkerSpec<C>): string {
  const env = Object.entries(spec.env ?? {});
  return [
    `${binOf(spec)} ${spec.version ?? ''}: ${spec.description}`,
    '',
    `Usage: ${binOf(spec)} [--url ws://host:port] [--config file.yaml] [--log-level level] [--health-port n]`,
    '',
    'Options:',
    `  --url <ws-url>       engine address (default: $III_URL or ${DEFAULT_III_URL})`,
    `  --config <file>      YAML file; this worker reads its "${spec.name}:" section`,
    '  --log-level <level>  fatal|error|warn|info|debug|trace|silent (default: info, or $LOG_LEVEL)',
    '  --health-port <n>    serve GET /healthz and /readyz on this port (default: $IIH_HEALTH_PORT, else none)',
    '  --health-host <host> listen address for them (default: $IIH_HEALTH_HOST or 0.0.0.0)',
    `  --drain-ms <ms>      on SIGTERM, how long in-flight calls may finish (default: $IIH_DRAIN_MS or ${DEFAULT_DRAIN_MS})`,
    '  --version            print the version',
    '  -h, --help           show this help',
    ...(env.length
      ? ['', 'Environment overrides (win over the config file):', ...env.map(([v, k]) => `  ${v.padEnd(28)} ${k}`)]
      : []),
    '',
    'On SIGTERM or SIGINT the worker takes no new calls, lets running ones finish within the drain',
    'time, answers the rest `unavailable` (retryable), closes and exits 0. A second signal exits at once.',
    '',
    'Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad flags or config.',
  ].join('\n');
}

/** The process entry of every worker: flags, config, connect, probes, and a graceful exit on SIGINT/SIGTERM. */
export async function runWorkerMain<C>(
  spec: WorkerSpec<C>,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  let flags: WorkerFlags;
  let config: C;
  let lifecycle: LifecycleSettings;
  try {
    flags = parseWorkerFlags(argv);
    if (flags.help) return void process.stdout.write(`${helpText(spec)}\n`);
    if (flags.version) return void process.stdout.write(`${spec.version ?? 'unknown'}\n`);
    config = loadWorkerConfig({ worker: spec.name, schema: spec.config, file: flags.config, envOverrides: spec.env });
    lifecycle = lifecycleSettings(flags);
  } catch (error) {
    process.stderr.write(`${binOf(spec)}: ${(error as Error).message}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  }
  const level = flags.logLevel ?? (process.env.LOG_LEVEL as StartOptions['logLevel']) ?? 'info';
  const logger = createLogger({ worker: spec.name, level });
  let worker: Worker<C> | undefined;
  let stopRequested: string | undefined;
  let health: HealthServer | undefined;
  const exit = (code: number) => {
    void health?.close();
    process.exit(code);
  };
  const shutDown = (running: Worker<C>) =>
    running.shutdown({ drainMs: lifecycle.drainMs }).then(
      (report) => {
        logger.info(report, 'stopped');
        exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  const onSignal = (signal: string) => {
    if (stopRequested) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      return exit(1);
    }
    stopRequested = signal;
    logger.info({ signal }, 'shutting down');
    if (worker) return void shutDown(worker);
    // Still connecting: stop once start-up settles, and in any case within the drain bound.
    setTimeout(() => exit(0), lifecycle.drainMs + CLOSE_STEP_MS);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  if (lifecycle.healthPort !== undefined) {
    try {
      health = await startHealthServer({
        port: lifecycle.healthPort,
        host: lifecycle.healthHost,
        readiness: () => worker?.readiness() ?? Promise.resolve(stopRequested ? 'draining' : 'starting'),
      });
      logger.info({ health_port: health.port }, 'health endpoints on /healthz and /readyz');
    } catch (error) {
      process.stderr.write(`${binOf(spec)}: cannot serve health endpoints: ${(error as Error).message}\n`);
      process.exit(1);
    }
  }
  try {
    worker = await startWorker(spec, { url: flags.url, config, logger });
  } catch (error) {
    if (stopRequested) return exit(0);
    process.stderr.write(`${binOf(spec)}: failed to start: ${(error as Error).message}\n`);
    return exit(error instanceof ConfigError ? 2 : 1);
  }
  if (stopRequested) void shutDown(worker);
}

/** The version in the package.json next to `dist/` (call with `import.meta.url` from `src/main.ts`). */
export function packageVersion(moduleUrl: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', moduleUrl), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
