import { type Handler, HarnessError, type Logger, type Worker, type WorkerSpec } from '@iii-harness/runtime';
import {
  contracts,
  type Model,
  type ProviderDeclaration,
  type ProviderRequest,
  type ResolvedProvider,
  type StopDetails,
  type StopReason,
} from '@iii-harness/types';
import type { z } from 'zod';
import { AbortRegistry } from './abort-registry.js';
import { type ProviderConfig, retryPolicyOf } from './config.js';
import {
  type CachedResolver,
  cachedResolver,
  declareInBackground,
  type HarnessLink,
  requireCredential,
  resolveSettings,
} from './declare.js';
import type { EventWriter, StreamSink } from './event-sink.js';
import { classifyError, type ProviderFailure, withoutSecrets } from './failures.js';
import { priceFor } from './pricing.js';
import { runRequest } from './run-request.js';

export interface AdapterContext {
  settings: ResolvedProvider;
  sink: StreamSink;
  signal: AbortSignal;
  /** Call once the vendor's response has started streaming: from then on a failure is not retried. */
  started(): void;
  logger: Logger;
}

export interface StreamOutcome {
  stop_reason: StopReason;
  raw_stop_reason?: string;
  stop_details?: StopDetails;
}

/** What differs between providers: how to stream one request, and how to list models. */
export interface ProviderAdapter {
  stream(request: ProviderRequest, ctx: AdapterContext): Promise<StreamOutcome>;
  listModels?(ctx: { settings: ResolvedProvider; signal: AbortSignal; logger: Logger }): Promise<Model[]>;
}

export interface ProviderDefinition<C extends ProviderConfig> {
  /** The provider id: functions are `provider::<id>::*`, the worker is `provider-<id>`. */
  id: string;
  description: string;
  config: z.ZodType<C>;
  env?: Record<string, string>;
  declaration(config: C): ProviderDeclaration;
  createAdapter(config: C): ProviderAdapter;
  /**
   * Serve the provider's own functions (e.g. LM Studio's `load_model`) beside the four standard
   * ones, each from its contract: `worker.function(contracts.lmstudio.loadModel, handler)`.
   */
  extraFunctions?(worker: Worker<C>, tools: ProviderTools): void;
}

/** What extra functions may use. */
export interface ProviderTools {
  declaration: ProviderDeclaration;
  settings(): Promise<ResolvedProvider>;
  /** A vendor failure as the bus error to throw, with the API key taken out of its text. */
  toBusError(error: unknown, settings?: ResolvedProvider): HarnessError;
}

/** The provider's four standard functions over an adapter, plus its declaration and discovery. */
export function createProviderWorker<C extends ProviderConfig>(definition: ProviderDefinition<C>): WorkerSpec<C> {
  return {
    name: `provider-${definition.id}`,
    description: definition.description,
    config: definition.config,
    env: definition.env,
    register: (worker) => registerProvider(worker, definition),
  };
}

/**
 * The bus surface every provider shares, from `contracts.provider`: `provider::<id>::stream`,
 * `::complete`, `::abort`, `::refresh_models`; the declaration to the harness's registry and model
 * discovery at start.
 */
function registerProvider<C extends ProviderConfig>(worker: Worker<C>, definition: ProviderDefinition<C>): void {
  const declaration = definition.declaration(worker.config);
  if (declaration.id !== definition.id)
    throw new Error(`declaration id ${declaration.id} differs from provider id ${definition.id}`);
  const adapter = definition.createAdapter(worker.config);
  const lifetime = new AbortController();
  const link: HarnessLink = { seen: false };
  const waitMs = worker.config.settings_wait_ms;
  const served: Served = {
    declaration,
    adapter,
    aborts: new AbortRegistry(),
    settings: cachedResolver(
      () => resolveSettings(worker.bus, declaration, { link, waitMs }),
      worker.config.settings_ttl_ms,
    ),
    policy: retryPolicyOf(worker.config),
    lifetime: lifetime.signal,
  };
  const id = declaration.id;

  worker.function(contracts.provider.stream(id), streamHandler(served));
  worker.function(contracts.provider.complete(id), completeHandler(served));
  worker.function(contracts.provider.abort(id), ({ request_id }) => ({ aborted: served.aborts.abort(request_id) }));
  worker.function(contracts.provider.refreshModels(id), refreshModelsHandler(served));
  definition.extraFunctions?.(worker, {
    declaration,
    settings: served.settings,
    toBusError: (error, settings) => toHarnessError(withoutSecrets(classifyError(error), [settings?.credential.token])),
  });

  worker.onShutdown(() => lifetime.abort());
  void declareInBackground(worker.bus, declaration, worker.logger, lifetime.signal, link);
  if (worker.config.discover_on_start && adapter.listModels) {
    // Deferred so start-up never waits on the vendor.
    setImmediate(() => {
      if (lifetime.signal.aborted) return;
      worker.bus.call(contracts.provider.refreshModels(id), {}, { timeoutMs: 60_000 }).catch((error: unknown) => {
        worker.logger.warn(
          { err: error instanceof HarnessError ? error.toEnvelope() : String(error) },
          'model discovery failed',
        );
      });
    });
  }
}

/** What the handlers of one provider share. */
interface Served {
  declaration: ProviderDeclaration;
  adapter: ProviderAdapter;
  aborts: AbortRegistry;
  settings: CachedResolver;
  policy: ReturnType<typeof retryPolicyOf>;
  lifetime: AbortSignal;
}

type ProviderContracts = typeof contracts.provider;

function streamHandler(served: Served): Handler<ReturnType<ProviderContracts['stream']>> {
  return async ({ channel, ...request }, { logger }) => {
    // iii-sdk hands the handler a ChannelWriter built from the ref.
    const writer = channel as unknown as EventWriter;
    guardWriter(writer, logger);
    preconnect(writer);
    const { message } = await runRequest({ ...served, request, writer, logger });
    return { stop_reason: message.stop_reason, usage: message.usage };
  };
}

function completeHandler(served: Served): Handler<ReturnType<ProviderContracts['complete']>> {
  return async (request, { logger }) => {
    const { message, failure } = await runRequest({ ...served, request, writer: undefined, logger });
    if (failure) throw toHarnessError(failure);
    return { message };
  };
}

function refreshModelsHandler(served: Served): Handler<ReturnType<ProviderContracts['refreshModels']>> {
  const { declaration, adapter } = served;
  return async (_input, { bus, logger }) => {
    if (!adapter.listModels) throw new HarnessError('not_found', `${declaration.id} cannot list models`);
    let token: string | undefined;
    const listed = await served
      .settings()
      .then((resolved) => {
        token = resolved.credential.token;
        requireCredential(declaration, resolved);
        return adapter.listModels!({ settings: resolved, signal: served.lifetime, logger });
      })
      .catch((error: unknown) => {
        throw toHarnessError(withoutSecrets(classifyError(error), [token]));
      });
    const models = listed.map((m) => {
      const pricing = m.pricing ?? priceFor(declaration.id, m.id);
      return pricing ? { ...m, pricing } : m;
    });
    const result = await bus.call(contracts.models.reconcile, { provider: declaration.id, models });
    return { provider: result.provider, count: result.count, ids: result.ids };
  };
}

/**
 * A channel writer reports a failed connection (the engine gone during its upgrade, a reset) as an
 * `error` event on its stream; without a listener Node would end the whole process. The request
 * goes on (the reader will see no terminal event and the caller's own timeout decides); the worker
 * lives to serve the next one.
 */
function guardWriter(writer: EventWriter, logger: Logger): void {
  const stream = (writer as { stream?: { on?(event: 'error', listener: (error: Error) => void): unknown } }).stream;
  stream?.on?.('error', (error) => logger.warn({ err: error.message }, "the caller's channel failed; events are lost"));
}

/**
 * Open the channel writer's socket now, while settings resolve and the vendor answers, instead of
 * at the first event: that handshake would otherwise add to the time to first token. iii-sdk
 * connects lazily and has no public method for this; without the method it stays lazy.
 */
function preconnect(channel: EventWriter): void {
  try {
    (channel as unknown as { ensureConnected?: () => void }).ensureConnected?.();
  } catch {
    // the first sendMessage connects (and reports) instead
  }
}

export function toHarnessError(failure: ProviderFailure): HarnessError {
  return new HarnessError('provider_error', failure.message, { reason: failure.kind, retryable: failure.retryable });
}
