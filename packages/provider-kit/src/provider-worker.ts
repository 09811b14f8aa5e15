import {
  defineFunction,
  HarnessError,
  type LegacyFunctionDef,
  type Logger,
  type Worker,
  type WorkerSpec,
} from '@iii-harness/runtime';
import {
  type AssistantMessage,
  assistantMessage,
  type Model,
  type StopDetails,
  type StopReason,
  stopReason,
  usage,
} from '@iii-harness/types';
import { z } from 'zod';
import { AbortRegistry } from './abort-registry.js';
import { type ProviderConfig, retryPolicyOf } from './config.js';
import {
  type CachedResolver,
  cachedResolver,
  declareInBackground,
  requireCredential,
  resolveSettings,
} from './declare.js';
import { type EventWriter, StreamSink } from './event-sink.js';
import { classifyError, type ProviderFailure } from './failures.js';
import { priceFor } from './pricing.js';
import { retryBeforeFirstByte } from './retry.js';
import {
  abortInput,
  abortOutput,
  completeInput,
  type ProviderDeclaration,
  type ProviderRequest,
  type ResolvedProvider,
  refreshModelsInput,
  refreshModelsOutput,
  streamInput,
} from './schemas.js';

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
  /** Provider-specific functions (e.g. LM Studio's load_model), registered beside the four standard ones. */
  // biome-ignore lint/suspicious/noExplicitAny: transitional until the providers serve contracts (issue 12)
  extraFunctions?(worker: Worker<C>, tools: ProviderTools): LegacyFunctionDef<any, any>[];
}

/** What extra functions may use. */
export interface ProviderTools {
  declaration: ProviderDeclaration;
  settings(): Promise<ResolvedProvider>;
}

const streamOutput = z.object({ stop_reason: stopReason, usage });
const completeOutput = z.object({ message: assistantMessage });

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

function registerProvider<C extends ProviderConfig>(worker: Worker<C>, definition: ProviderDefinition<C>): void {
  const declaration = definition.declaration(worker.config);
  if (declaration.id !== definition.id)
    throw new Error(`declaration id ${declaration.id} differs from provider id ${definition.id}`);
  const adapter = definition.createAdapter(worker.config);
  const aborts = new AbortRegistry();
  const lifetime = new AbortController();
  const settings = cachedResolver(() => resolveSettings(worker.bus, declaration), worker.config.settings_ttl_ms);
  const run = (request: ProviderRequest, writer: EventWriter | undefined, logger: Logger) =>
    runRequest({
      request,
      writer,
      logger,
      declaration,
      adapter,
      aborts,
      settings,
      policy: retryPolicyOf(worker.config),
    });
  const prefix = `provider::${declaration.id}`;

  worker.function(
    defineFunction({
      id: `${prefix}::stream`,
      description: `Stream a ${declaration.display_name} completion as normalized events to the caller's channel`,
      input: streamInput,
      output: streamOutput,
      async handler({ channel, ...request }, { logger }) {
        preconnect(channel);
        const { message } = await run(request, channel, logger);
        return { stop_reason: message.stop_reason, usage: message.usage };
      },
    }),
  );
  worker.function(
    defineFunction({
      id: `${prefix}::complete`,
      description: `Run a ${declaration.display_name} completion and return the final assistant message`,
      input: completeInput,
      output: completeOutput,
      async handler(request, { logger }) {
        const { message, failure } = await run(request, undefined, logger);
        if (failure) throw toHarnessError(failure);
        return { message };
      },
    }),
  );
  worker.function(
    defineFunction({
      id: `${prefix}::abort`,
      description: `Abort an in-flight ${declaration.display_name} request by its request_id (closes the upstream HTTP stream)`,
      input: abortInput,
      output: abortOutput,
      handler: ({ request_id }) => ({ aborted: aborts.abort(request_id) }),
    }),
  );
  worker.function(
    defineFunction({
      id: `${prefix}::refresh_models`,
      description: `Discover ${declaration.display_name} models and write them to the catalog (models::reconcile)`,
      input: refreshModelsInput,
      output: refreshModelsOutput,
      handler: async (_input, { bus, logger }) => {
        if (!adapter.listModels) throw new HarnessError('not_found', `${declaration.id} cannot list models`);
        const models = (
          await settings()
            .then((resolved) => {
              requireCredential(declaration, resolved);
              return adapter.listModels!({ settings: resolved, signal: lifetime.signal, logger });
            })
            .catch((error: unknown) => {
              throw toHarnessError(classifyError(error));
            })
        ).map((m) =>
          m.pricing
            ? m
            : { ...m, ...(priceFor(declaration.id, m.id) ? { pricing: priceFor(declaration.id, m.id) } : {}) },
        );
        const result = await bus.call<{ provider: string; count: number; ids: string[] }>('models::reconcile', {
          provider: declaration.id,
          models,
        });
        return { provider: result.provider, count: result.count, ids: result.ids };
      },
    }),
  );
  for (const fn of definition.extraFunctions?.(worker, { declaration, settings }) ?? []) worker.function(fn);

  worker.onShutdown(() => lifetime.abort());
  void declareInBackground(worker.bus, declaration, worker.logger, lifetime.signal);
  if (worker.config.discover_on_start && adapter.listModels) {
    // Deferred so start-up never waits on the vendor.
    setImmediate(() => {
      if (lifetime.signal.aborted) return;
      worker.bus.call(`${prefix}::refresh_models`, {}, { timeoutMs: 60_000 }).catch((error: unknown) => {
        worker.logger.warn(
          { err: error instanceof HarnessError ? error.toEnvelope() : String(error) },
          'model discovery failed',
        );
      });
    });
  }
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

/**
 * Resolves after one full turn of the event loop (two `setImmediate`s: a handler runs in the poll
 * phase, and only the next poll phase sees the writer's socket connect). Its upgrade request is
 * then on its way to the engine while this request's synchronous work (building the body, the
 * SDK's request) holds the event loop, instead of after it.
 */
function nextLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

export function toHarnessError(failure: ProviderFailure): HarnessError {
  return new HarnessError('provider_error', failure.message, { reason: failure.kind, retryable: failure.retryable });
}

interface RunRequest {
  request: ProviderRequest;
  writer: EventWriter | undefined;
  logger: Logger;
  declaration: ProviderDeclaration;
  adapter: ProviderAdapter;
  aborts: AbortRegistry;
  settings: CachedResolver;
  policy: ReturnType<typeof retryPolicyOf>;
}

/**
 * One request, start to terminal event: resolve settings, stream with retries before the first
 * byte, and end the channel with exactly one `done` (also for aborts) or `error`.
 */
async function runRequest({
  request,
  writer,
  logger,
  declaration,
  adapter,
  aborts,
  settings,
  policy,
}: RunRequest): Promise<{ message: AssistantMessage; failure?: ProviderFailure }> {
  const controller = aborts.start(request.request_id);
  const sink = new StreamSink(writer, declaration.id, request.model, { logger });
  const startedAt = Date.now();
  try {
    if (writer) await nextLoopTurn(); // registered for abort first: an abort meanwhile still stops the request
    const resolved = await settings();
    requireCredential(declaration, resolved);
    const outcome = await retryBeforeFirstByte(
      async ({ signal, started }) => {
        const before = sink.count;
        try {
          return await adapter.stream(request, { settings: resolved, sink, signal, started, logger });
        } catch (error) {
          if (sink.count > before) started(); // something reached the caller: a retry would repeat it
          throw error;
        }
      },
      {
        signal: controller.signal,
        policy,
        onRetry: (failure, delayMs) =>
          logger.warn({ kind: failure.kind, status: failure.status, delay_ms: delayMs }, 'retrying provider request'),
      },
    );
    const message = sink.done(outcome.stop_reason, {
      raw_stop_reason: outcome.raw_stop_reason,
      stop_details: outcome.stop_details,
    });
    logger.info(
      {
        request_id: request.request_id,
        model: request.model,
        stop_reason: message.stop_reason,
        usage: message.usage,
        ms: Date.now() - startedAt,
      },
      'provider request done',
    );
    return { message };
  } catch (error) {
    const failure = classifyError(error, controller.signal);
    if (failure.kind === 'aborted') return { message: sink.done('aborted') };
    logger.warn(
      { request_id: request.request_id, kind: failure.kind, status: failure.status, retryable: failure.retryable },
      'provider request failed',
    );
    return { message: sink.fail(failure), failure };
  } finally {
    aborts.finish(request.request_id, controller);
    settings.refreshIfAging();
  }
}
