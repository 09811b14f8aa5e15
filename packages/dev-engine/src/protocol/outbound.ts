/**
 * Engine -> worker frames. The engine re-serializes every frame it relays (unknown fields are
 * dropped, absent optionals are omitted), so these builders spell out each field list.
 */
import type { ErrorBody, InvocationResultFrame } from './frames.js';

export function workerRegistered(workerId: string, reattachToken: string): string {
  return JSON.stringify({ type: 'workerregistered', worker_id: workerId, reattach_token: reattachToken });
}

export interface InvokeFields {
  invocation_id: string;
  function_id: string;
  data: unknown;
  traceparent?: string;
  baggage?: string;
  metadata?: unknown;
}

export function invokeFunction(f: InvokeFields): string {
  return JSON.stringify({
    type: 'invokefunction',
    invocation_id: f.invocation_id,
    function_id: f.function_id,
    data: f.data,
    traceparent: f.traceparent,
    baggage: f.baggage,
    metadata: f.metadata,
  });
}

/** An `invocationresult` frame's fields: what a worker sent, relayed as it is. */
export type ResultFields = Omit<InvocationResultFrame, 'type'>;

/** `error` wins over `result`; an `undefined` result is omitted (JSON.stringify drops it). */
export function invocationResult(f: ResultFields): string {
  return JSON.stringify({
    type: 'invocationresult',
    invocation_id: f.invocation_id,
    function_id: f.function_id,
    result: f.error ? undefined : f.result,
    error: f.error,
    traceparent: f.traceparent,
    baggage: f.baggage,
  });
}

export function registerTrigger(binding: {
  id: string;
  trigger_type: string;
  function_id: string;
  config: unknown;
  metadata?: unknown;
}): string {
  return JSON.stringify({
    type: 'registertrigger',
    id: binding.id,
    trigger_type: binding.trigger_type,
    function_id: binding.function_id,
    config: binding.config,
    metadata: binding.metadata,
  });
}

export function unregisterTrigger(id: string, triggerType: string): string {
  return JSON.stringify({ type: 'unregistertrigger', id, trigger_type: triggerType });
}

export function triggerRegistrationResult(
  id: string,
  triggerType: string,
  functionId: string,
  error: ErrorBody,
): string {
  return JSON.stringify({
    type: 'triggerregistrationresult',
    id,
    trigger_type: triggerType,
    function_id: functionId,
    error,
  });
}

/**
 * v0.23's refusal of one function registration (`FUNCTION_NAMESPACE_CONFLICT`); the connection
 * stays open. v0.23 engines put the function id in `worker_name` too; both are sent.
 */
export function registrationRejected(functionId: string, ownerWorkerId: string): string {
  return JSON.stringify({
    type: 'registrationrejected',
    code: 'FUNCTION_NAMESPACE_CONFLICT',
    namespace: 'default',
    worker_name: functionId,
    function_id: functionId,
    owner_worker_id: ownerWorkerId,
  });
}

export const PONG = JSON.stringify({ type: 'pong' });
