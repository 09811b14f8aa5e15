import { inChildSpan, type Logger, type SpanHandle } from '@iii-harness/runtime';
import type { AssistantMessage, ProviderDeclaration, ProviderRequest } from '@iii-harness/types';
import type { AbortRegistry } from './abort-registry.js';
import type { CachedResolver } from './declare.js';
import { requireCredential } from './declare.js';
import { type EventWriter, StreamSink } from './event-sink.js';
import { classifyError, type ProviderFailure, withoutSecrets } from './failures.js';
import type { ProviderAdapter } from './provider-worker.js';
import { describeOutcome, requestSpan } from './request-span.js';
import { type RetryPolicy, retryBeforeFirstByte } from './retry.js';

export interface RunRequest {
  request: ProviderRequest;
  writer: EventWriter | undefined;
  logger: Logger;
  declaration: ProviderDeclaration;
  adapter: ProviderAdapter;
  aborts: AbortRegistry;
  settings: CachedResolver;
  policy: RetryPolicy;
}

type RequestOutcome = { message: AssistantMessage; failure?: ProviderFailure };

/**
 * One request, start to terminal event: resolve settings, stream with retries before the first
 * byte, and end the channel with exactly one `done` (also for aborts) or `error`. A failure's text
 * never carries the API key, even when the vendor echoed it (a 401 body quoting the key). The
 * request is a span (`chat <model>`) with its usage, cost and outcome.
 */
export function runRequest(run: RunRequest): Promise<RequestOutcome> {
  return inChildSpan(requestSpan(run.declaration.id, run.request), async (span) => {
    const outcome = await serve(run, span);
    describeOutcome(span, run.declaration.id, outcome);
    return outcome;
  });
}

async function serve(
  { request, writer, logger, declaration, adapter, aborts, settings, policy }: RunRequest,
  span: SpanHandle,
): Promise<RequestOutcome> {
  const controller = aborts.start(request.request_id);
  const sink = new StreamSink(writer, declaration.id, request.model, { logger });
  const startedAt = Date.now();
  let token: string | undefined;
  try {
    if (writer) await nextLoopTurn(); // registered for abort first: an abort meanwhile still stops the request
    const resolved = await settings();
    token = resolved.credential.token;
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
        onRetry: (failure, delayMs) => {
          span.event('retry', { 'error.type': failure.kind, 'iii.retry.delay_ms': delayMs });
          logger.warn({ kind: failure.kind, status: failure.status, delay_ms: delayMs }, 'retrying provider request');
        },
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
    const failure = withoutSecrets(classifyError(error, controller.signal), [token]);
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

/**
 * Resolves after one full turn of the event loop (two `setImmediate`s: a handler runs in the poll
 * phase, and only the next poll phase sees the writer's socket connect). Its upgrade request is
 * then on its way to the engine while this request's synchronous work (building the body, the
 * SDK's request) holds the event loop, instead of after it.
 */
function nextLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
