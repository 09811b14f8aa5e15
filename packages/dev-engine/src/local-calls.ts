/**
 * Invocations the engine answers itself: builtins (and HTTP-invoked functions) and the enqueue
 * action. Replies go to the calling connection with the caller's ids; a result that cannot be
 * serialized becomes a `serialization_error` instead of an exception.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { WorkerConnection } from './connection.js';
import type { BuiltinFunction, CallContext, EngineApi } from './engine-api.js';
import { toErrorBody } from './errors.js';
import { withFunctionId } from './protocol/baggage.js';
import type { ErrorBody, InvokeFunctionFrame } from './protocol/frames.js';
import * as out from './protocol/outbound.js';

const NO_QUEUE_PROVIDER =
  'No queue provider is installed (function engine::queue::enqueue is not registered). Install one with `iii worker add queue`.';

export type Reply = (result: unknown, error?: ErrorBody) => void;

/** Answers `f` on `conn` (when it expects an answer); a failed void call is only logged. */
export function replyTo(conn: WorkerConnection, f: InvokeFunctionFrame, wantsReply: boolean, logger: Logger): Reply {
  return (result, error) => {
    if (!wantsReply) {
      if (error) logger.warn({ function_id: f.function_id, error }, 'void invocation failed');
      return;
    }
    const fields = {
      invocation_id: f.invocation_id!,
      function_id: f.function_id,
      traceparent: f.traceparent,
      baggage: f.baggage,
    };
    let frame: string;
    try {
      frame = out.invocationResult({ ...fields, result, error });
    } catch (e) {
      frame = out.invocationResult({
        ...fields,
        error: { code: 'serialization_error', message: (e as Error).message },
      });
    }
    conn.send(frame);
  };
}

export function invokeBuiltin(fn: BuiltinFunction, conn: WorkerConnection, f: InvokeFunctionFrame, reply: Reply): void {
  const ctx: CallContext = {
    callerWorkerId: conn.id,
    metadata: f.metadata,
    traceparent: f.traceparent,
    baggage: f.baggage,
  };
  let result: unknown;
  try {
    result = fn.handler(f.data, ctx);
  } catch (error) {
    reply(undefined, toErrorBody(error));
    return;
  }
  if (isThenable(result))
    result.then(
      (r) => reply(r),
      (error: unknown) => reply(undefined, toErrorBody(error)),
    );
  else reply(result);
}

/** `action: enqueue` goes through `engine::queue::enqueue`, whoever provides it. */
export function enqueue(api: EngineApi, f: InvokeFunctionFrame, queue: string, reply: Reply): void {
  if (!api.hasFunction('engine::queue::enqueue')) {
    reply(undefined, { code: 'enqueue_error', message: NO_QUEUE_PROVIDER });
    return;
  }
  const messageReceiptId = randomUUID();
  api
    .call('engine::queue::enqueue', {
      queue,
      function_id: f.function_id,
      data: f.data,
      messageReceiptId,
      traceparent: f.traceparent,
      baggage: withFunctionId(f.baggage, f.function_id),
    })
    .then(
      () => reply({ messageReceiptId }),
      (error: unknown) =>
        reply(undefined, { code: 'enqueue_error', message: error instanceof Error ? error.message : String(error) }),
    );
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
