/**
 * The in-process surface that every builtin module (state, stream, pubsub, cron, http, queue, ...)
 * is written against. The router implements it; builtins never touch WebSockets directly.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';

/** An error with a wire code, sent back to callers as `ErrorBody {code, message}`. */
export class EngineError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** What a builtin handler learns about its call besides the payload. */
export interface CallContext {
  /** Worker id of the WebSocket caller (absent for engine-internal calls). */
  callerWorkerId?: string;
  /** The invocation's `metadata` (trigger metadata for trigger fires). */
  metadata?: unknown;
  traceparent?: string;
  baggage?: string;
}

export interface BuiltinFunction {
  id: string;
  description?: string;
  request_format?: unknown;
  response_format?: unknown;
  metadata?: Record<string, unknown>;
  /** The in-process worker that owns it (e.g. `iii-state`), shown as `worker_name` in the catalogue. */
  worker?: string;
  /** Resolve with the result (`undefined` = no `result` field on the wire); throw EngineError to fail. */
  handler(data: unknown, ctx: CallContext): Promise<unknown> | unknown;
}

/** A registered trigger, as the engine's trigger registry keeps it. */
export interface TriggerBinding {
  id: string;
  trigger_type: string;
  function_id: string;
  config: unknown;
  metadata?: Record<string, unknown>;
  /** Owning connection; absent for ownerless triggers (`engine::register_trigger`). */
  worker_id?: string;
}

/** An in-process trigger-type provider (http, cron, state, stream, subscribe, durable:subscriber, ...). */
export interface TriggerTypeProvider {
  /** The in-process worker that provides the type (e.g. `iii-cron`), shown in the catalogue. */
  worker?: string;
  /** Throw (any error) to reject the binding; the router reports `trigger_registration_failed`. */
  registerTrigger(binding: TriggerBinding): Promise<void> | void;
  unregisterTrigger(binding: TriggerBinding): Promise<void> | void;
}

export interface CallOptions {
  metadata?: unknown;
  traceparent?: string;
  baggage?: string;
}

export interface EngineApi {
  readonly logger: Logger;
  /** SQLite database (file-backed under --data-dir, or ':memory:' with --memory). Modules own their tables. */
  readonly db: Database;
  registerFunction(fn: BuiltinFunction): void;
  /** Remove a builtin function registered with `registerFunction` (no-op if a worker has since claimed the id). Optional so test fakes need not implement it. */
  unregisterFunction?(functionId: string): void;
  registerTriggerType(id: string, description: string, provider: TriggerTypeProvider): void;
  /** Invoke any function (builtin or worker-owned). Rejects with EngineError (e.g. `function_not_found`). */
  call(functionId: string, data: unknown, options?: CallOptions): Promise<unknown>;
  hasFunction(functionId: string): boolean;
  /** Called whenever a function is registered or removed; returns an unsubscribe function. */
  onFunctionsChanged(listener: () => void): () => void;
  /** Register a shutdown hook (timers, servers); run in reverse order on close. */
  onClose(hook: () => Promise<void> | void): void;
  /** Active bindings of one trigger type (parked ones excluded). Optional so test fakes need not implement it. */
  triggersOfType?(triggerType: string): TriggerBinding[];
}
