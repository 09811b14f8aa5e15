/**
 * `startEngine`: open the database, build the router, install the enabled builtins, and open
 * the worker and HTTP listeners. Used by the CLI, by tests, and by other packages that want an
 * engine in-process (`startEngine({port: 0, httpPort: 0, memory: true})`).
 */
import type { Logger } from 'pino';
import { ChannelManager, installChannelFunctions } from './builtins/channels.js';
import { installCron } from './builtins/cron.js';
import { type HttpServerHandle, installHttpTrigger, startHttpServer } from './builtins/http.js';
import { RouteTable } from './builtins/http-routes.js';
import { installPubSub } from './builtins/pubsub.js';
import { installState } from './builtins/state.js';
import { installStream } from './builtins/stream.js';
import { installCatalogue } from './catalogue.js';
import { ConfigError, defaultConfig, type EngineConfig, loadConfigFile } from './config.js';
import type { EngineApi } from './engine-api.js';
import { type Listener, startListeners, urlHost } from './listeners.js';
import { createLogger, type LogLevel } from './logger.js';
import { DEFAULT_OBSERVABILITY, installObservability } from './observability/index.js';
import { QueueConfigError } from './queue/config.js';
import { installQueues, type QueueModuleConfig } from './queue/index.js';
import type { RedisAdapters } from './redis/index.js';
import { Router } from './router.js';
import { resolveSecurity, type SecurityOptions } from './security/options.js';
import { openDatabase } from './store.js';

export const DEFAULT_PORT = 49134;
export const DEFAULT_HTTP_PORT = 3111;
export const DEFAULT_HOST = '127.0.0.1';
/** Telemetry frames above this are dropped unparsed (the SDK's batches are ~1 MiB at most). */
const TELEMETRY_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** The real engine's per-message limit (tungstenite default). */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;

export interface EngineOptions {
  /** Worker WebSocket port (default 49134; 0 = ephemeral). Overrides the config file. */
  port?: number;
  /** Listen host for the worker and HTTP ports (default 127.0.0.1). Overrides the config file. */
  host?: string;
  /** HTTP trigger port (default 3111; 0 = ephemeral). Overrides the config file. */
  httpPort?: number;
  /** SQLite location (default ./.iii-data, file engine.db). */
  dataDir?: string;
  /** Keep everything in memory (`:memory:`); nothing survives a restart. */
  memory?: boolean;
  /** pino level (default info); `silent` for tests. */
  logLevel?: LogLevel;
  /** Use this logger instead of creating one. */
  logger?: Logger;
  /** Path of a real-engine config.yaml; without it (and without `config`) every builtin is on. */
  configPath?: string;
  /** An already parsed config (wins over `configPath`). */
  config?: EngineConfig;
  /** Largest accepted worker WebSocket message in bytes (default 64 MiB). */
  maxPayload?: number;
  /** `engine::functions-available` poll interval (default 5000 ms, as in the engine). */
  functionsPollMs?: number;
  /**
   * Protective limits (allowed browser origins, outbound caps, timeouts, connection limit, JSON
   * depth); see SecurityOptions. `handshakeTimeoutMs` defaults to the config's
   * `handshake_timeout_ms`.
   */
  security?: Partial<SecurityOptions>;
}

export interface RunningEngine {
  /** `ws://host:port` of the main worker port, for `registerWorker`. */
  url: string;
  port: number;
  /** Every worker-manager listener (the main one first), e.g. an RBAC port from the config. */
  listeners: Array<{ name: string; url: string; port: number }>;
  /** `http://host:port` of the HTTP triggers, or undefined when iii-http is not enabled. */
  httpUrl: string | undefined;
  httpPort: number | undefined;
  /** The in-process API the builtins use (for tests and embedding). */
  api: EngineApi;
  logger: Logger;
  close(): Promise<void>;
}

export async function startEngine(options: EngineOptions = {}): Promise<RunningEngine> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  const config = options.config ?? (options.configPath ? loadConfigFile(options.configPath) : defaultConfig());
  for (const warning of config.warnings) logger.warn(warning);

  const security = resolveSecurity({
    handshakeTimeoutMs: config.workerManager.handshake_timeout_ms,
    ...options.security,
  });
  const { db, path } = openDatabase({ memory: options.memory, dataDir: options.dataDir });
  const router = new Router(logger, db, { maxJsonDepth: security.maxJsonDepth });
  const channels = new ChannelManager();
  const inProcess = ['iii-engine-functions', 'iii-observability'];
  let httpServer: HttpServerHandle | undefined;
  let listeners: Listener[] = [];
  let redis: RedisAdapters | undefined;

  try {
    redis = await connectRedis(config, logger);
    installChannelFunctions(router, channels);
    const observability = installObservability(router, config.observability ?? DEFAULT_OBSERVABILITY, {
      maxJsonDepth: security.maxJsonDepth,
      maxFrameBytes: TELEMETRY_MAX_FRAME_BYTES,
    });
    router.onTelemetry = observability.ingest;
    if (config.state) {
      installState(router, config.state, redis?.state);
      inProcess.push('iii-state');
    }
    if (config.stream) {
      installStream(router, redis?.stream, redis?.streamEvents);
      inProcess.push('iii-stream');
    }
    if (config.pubsub) {
      installPubSub(router, redis?.pubsub);
      inProcess.push('iii-pubsub');
    }
    if (config.cron) {
      installCron(router, redis?.cronLock);
      inProcess.push('iii-cron');
    }
    const routes = new RouteTable();
    if (config.http) {
      installHttpTrigger(router, routes);
      inProcess.push('iii-http');
    }
    if (config.queue) {
      inProcess.push('iii-queue');
      await installQueueModule(router, config.queue);
    }
    if (config.httpFunctions) {
      router.registrations.httpFunctions = config.httpFunctions;
      inProcess.push('iii-http-functions');
    }
    installCatalogue(router, {
      inProcessWorkers: inProcess,
      functionsPollMs: options.functionsPollMs,
      startedAtMs: Date.now(),
    });

    listeners = await startListeners(
      router,
      channels,
      logger,
      [config.workerManager, ...(config.extraWorkerManagers ?? [])],
      {
        host: options.host ?? config.workerManager.host ?? DEFAULT_HOST,
        port: options.port ?? config.workerManager.port ?? DEFAULT_PORT,
        maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
        security,
        onTelemetry: observability.ingest,
      },
    );
    if (config.http) {
      const httpHost = options.host ?? config.http.host ?? DEFAULT_HOST;
      httpServer = await startHttpServer(
        router,
        routes,
        channels,
        { ...config.http, host: httpHost, port: options.httpPort ?? config.http.port ?? DEFAULT_HTTP_PORT },
        { maxBodyBytes: options.maxPayload ?? DEFAULT_MAX_PAYLOAD, maxJsonDepth: security.maxJsonDepth },
      );
    }
  } catch (error) {
    for (const l of listeners) await l.server.close();
    await router.close();
    await redis?.close();
    channels.close();
    db.close();
    throw error;
  }

  const main = listeners[0]!;
  const url = main.url;
  const httpUrl = httpServer
    ? `http://${urlHost(options.host ?? config.http?.host ?? DEFAULT_HOST)}:${httpServer.port}`
    : undefined;
  logger.info(
    { url, http_url: httpUrl, database: path, listeners: listeners.map((l) => ({ name: l.name, url: l.url })) },
    'iii dev engine ready',
  );

  let closing: Promise<void> | undefined;
  const http = httpServer;
  return {
    url,
    port: main.port,
    listeners: listeners.map(({ name, url, port }) => ({ name, url, port })),
    httpUrl,
    httpPort: http?.port,
    api: router,
    logger,
    close: () =>
      (closing ??= (async () => {
        for (const l of listeners) await l.server.close();
        await http?.close();
        await router.close();
        await redis?.close();
        channels.close();
        db.close();
      })()),
  };
}

/** The Redis adapters the config names, connected (the Redis client is loaded only then). */
async function connectRedis(config: EngineConfig, logger: Logger): Promise<RedisAdapters | undefined> {
  const sections = [config.state, config.stream, config.pubsub, config.cron];
  if (!sections.some((section) => section?.adapter !== undefined)) return undefined;
  const { connectRedisAdapters } = await import('./redis/index.js');
  return connectRedisAdapters(config, logger);
}

/** A bad `iii-queue` config is a config error like any other: the engine does not start. */
async function installQueueModule(api: EngineApi, config: Record<string, unknown>): Promise<void> {
  try {
    await Promise.resolve(installQueues(api, config as QueueModuleConfig));
  } catch (error) {
    if (error instanceof QueueConfigError) throw new ConfigError(error.message);
    throw error;
  }
}
