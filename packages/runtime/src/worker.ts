import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { type Contract, contracts } from '@iii-harness/types';
import { type IIIClient, registerWorker } from 'iii-sdk';
import type { z } from 'zod';
import { Bus } from './bus.js';
import { ConfigError, DEFAULT_III_URL, loadWorkerConfig, parseWorkerFlags } from './config.js';
import type { Handler, LegacyFunctionDef } from './define.js';
import { createHandler, jsonSchemasOf } from './handler.js';
import { Leases } from './lease.js';
import { createLogger, type Logger } from './logger.js';
import { registerEnvSecrets } from './secrets.js';
import { ensureContextPropagation } from './tracing.js';

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

/** A connected worker: its config, logger, bus, and what it registered. */
export class Worker<C> {
  readonly bus: Bus;
  readonly functionIds: string[] = [];
  /** This process, distinct from every other copy of this worker (lease holder, log field). */
  readonly instanceId = newInstanceId();
  private readonly shutdownHooks: Array<() => unknown> = [];
  private ownLeases?: Leases;

  constructor(
    readonly name: string,
    readonly config: C,
    readonly logger: Logger,
    readonly client: IIIClient,
  ) {
    this.bus = new Bus(client);
  }

  /**
   * Serve a contract: input validated before `handler` runs, output validated after, JSON Schemas
   * registered for `engine::functions::info`, a span per call, failures as `{code, message}`.
   */
  function<C extends Contract>(contract: C, handler: Handler<C>): void;
  /** @deprecated Pre-contract form, kept while the workers move to contracts. */
  // biome-ignore lint/suspicious/noExplicitAny: transitional (issue 12)
  function(def: LegacyFunctionDef<any, any>): void;
  // biome-ignore lint/suspicious/noExplicitAny: transitional (issue 12)
  function(first: Contract | LegacyFunctionDef<any, any>, second?: Handler<Contract>): void {
    const contract = first;
    const handler = second ?? (first as LegacyFunctionDef).handler.bind(first);
    this.client.registerFunction(
      contract.id,
      createHandler(contract, handler, { bus: this.bus, logger: this.logger }),
      {
        description: contract.description,
        ...jsonSchemasOf(contract),
        ...(contract.metadata ? { metadata: { ...contract.metadata } } : {}),
      },
    );
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

  onShutdown(hook: () => unknown): void {
    this.shutdownHooks.push(hook);
  }

  async shutdown(): Promise<void> {
    for (const hook of this.shutdownHooks.reverse()) await hook();
    await this.client.shutdown();
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
  // Payload capture in spans could carry secrets; it is opt-in here.
  process.env.III_DISABLE_TRACE_PAYLOADS ??= process.env.IIH_TRACE_PAYLOADS === '1' ? 'false' : 'true';
  const url = options.url ?? process.env.III_URL ?? DEFAULT_III_URL;
  const client = registerWorker(url, {
    workerName,
    workerDescription: spec.description,
    invocationTimeoutMs: options.invocationTimeoutMs,
    enableMetricsReporting: false,
    ...(options.otel === false ? { otel: { enabled: false } } : {}),
  });
  ensureContextPropagation();
  const worker = new Worker(spec.name, configResult.data, logger, client);
  try {
    await spec.register(worker);
    await worker.bus.call(contracts.engine.functionsList, { prefix: `${spec.name}::__ready__` }, { timeoutMs: 15_000 });
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
    `Usage: ${binOf(spec)} [--url ws://host:port] [--config file.yaml] [--log-level level]`,
    '',
    'Options:',
    `  --url <ws-url>       engine address (default: $III_URL or ${DEFAULT_III_URL})`,
    `  --config <file>      YAML file; this worker reads its "${spec.name}:" section`,
    '  --log-level <level>  fatal|error|warn|info|debug|trace|silent (default: info, or $LOG_LEVEL)',
    '  --version            print the version',
    '  -h, --help           show this help',
    ...(env.length
      ? ['', 'Environment overrides (win over the config file):', ...env.map(([v, k]) => `  ${v.padEnd(28)} ${k}`)]
      : []),
    '',
    'Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad flags or config.',
  ].join('\n');
}

/** The process entry of every worker: flags, config, connect, and a clean exit on SIGINT/SIGTERM. */
export async function runWorkerMain<C>(
  spec: WorkerSpec<C>,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  let worker: Worker<C>;
  try {
    const flags = parseWorkerFlags(argv);
    if (flags.help) return void process.stdout.write(`${helpText(spec)}\n`);
    if (flags.version) return void process.stdout.write(`${spec.version ?? 'unknown'}\n`);
    const config = loadWorkerConfig({
      worker: spec.name,
      schema: spec.config,
      file: flags.config,
      envOverrides: spec.env,
    });
    const level = flags.logLevel ?? (process.env.LOG_LEVEL as StartOptions['logLevel']) ?? 'info';
    worker = await startWorker(spec, { url: flags.url, config, logLevel: level });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${binOf(spec)}: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${binOf(spec)}: failed to start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    worker.logger.info({ signal }, 'shutting down');
    worker.shutdown().then(
      () => process.exit(0),
      (error) => {
        worker.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/** The version in the package.json next to `dist/` (call with `import.meta.url` from `src/main.ts`). */
export function packageVersion(moduleUrl: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', moduleUrl), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}
