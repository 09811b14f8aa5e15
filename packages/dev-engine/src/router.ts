/**
 * The engine core: routes worker frames, runs invocations, and implements EngineApi for the
 * in-process builtins. Invocation handling is the hot path; it stays synchronous, allocation-
 * light, and never goes through zod.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import { Bindings } from './bindings.js';
import { type OutboundLimits, type TransportSocket, WorkerConnection } from './connection.js';
import type { BuiltinFunction, CallOptions, EngineApi, TriggerBinding, TriggerTypeProvider } from './engine-api.js';
import { EngineError } from './engine-api.js';
import { functionNotFound, isPlainObject, toEngineError, toErrorBody } from './errors.js';
import { INVOCATION_STOPPED, InvocationTable, type PendingInvocation } from './invocations.js';
import { enqueue, invokeBuiltin, replyTo } from './local-calls.js';
import { withFunctionId } from './protocol/baggage.js';
import {
  decodeFrame,
  type ErrorBody,
  FrameError,
  type InboundFrame,
  type InvocationResultFrame,
  type InvokeFunctionFrame,
  normalizeUuid,
} from './protocol/frames.js';
import * as out from './protocol/outbound.js';
import { gateInvocation } from './rbac/gate.js';
import type { WorkerSession } from './rbac/policy.js';
import { Registrations } from './registrations.js';
import { FunctionRegistry } from './registry/functions.js';
import { depthMessage, exceedsDepth } from './security/json-depth.js';

const DISCARD = { kind: 'discard' } as const;
const REATTACH_EVICT_TIMEOUT_MS = 5000;

export interface RouterOptions {
  /** Deepest JSON nesting accepted in a frame (the real engine's serde limit, 128). */
  maxJsonDepth: number;
}

export class Router implements EngineApi {
  readonly functions = new FunctionRegistry();
  readonly bindings: Bindings;
  readonly invocations = new InvocationTable();
  readonly registrations = new Registrations(this);
  readonly connections = new Map<string, WorkerConnection>();
  private readonly closeHooks: Array<() => Promise<void> | void> = [];
  /** Where telemetry frames arriving on worker sockets go (set by the observability module). */
  onTelemetry: ((frame: Buffer) => void) | undefined;
  private readonly debug: boolean;

  constructor(
    readonly logger: Logger,
    readonly db: Database,
    private readonly options: RouterOptions = { maxJsonDepth: 128 },
  ) {
    this.bindings = new Bindings(logger);
    this.debug = logger.isLevelEnabled('debug');
  }

  // ---------------------------------------------------------------- EngineApi

  registerFunction(fn: BuiltinFunction): void {
    this.functions.claim({
      kind: 'builtin',
      id: fn.id,
      description: fn.description,
      request_format: fn.request_format,
      response_format: fn.response_format,
      metadata: fn.metadata,
      registeredAtMs: Date.now(),
      builtin: fn,
    });
  }

  unregisterFunction(functionId: string): void {
    this.functions.releaseIfOwner(functionId, 'builtin');
  }

  registerTriggerType(id: string, description: string, provider: TriggerTypeProvider): void {
    this.bindings
      .installType({ id, description, provider: { kind: 'builtin', impl: provider } })
      .catch((error) => this.logger.error({ err: error, trigger_type: id }, 'trigger type replay failed'));
  }

  call(functionId: string, data: unknown, options: CallOptions = {}): Promise<unknown> {
    const entry = this.functions.get(functionId);
    if (!entry) return Promise.reject(functionNotFound(functionId));
    if (entry.kind === 'builtin') {
      try {
        return Promise.resolve(
          entry.builtin.handler(data, {
            metadata: options.metadata,
            traceparent: options.traceparent,
            baggage: options.baggage,
          }),
        ).catch((error) => Promise.reject(toEngineError(error)));
      } catch (error) {
        return Promise.reject(toEngineError(error));
      }
    }
    return new Promise((resolve, reject) => {
      const id = randomUUID();
      const fail = (e: ErrorBody) =>
        reject(Object.assign(new EngineError(e.code, e.message), e.stacktrace ? { stacktrace: e.stacktrace } : {}));
      this.invocations.add({ id, functionId, target: entry.owner, sink: { kind: 'internal', resolve, reject: fail } });
      entry.owner.send(
        out.invokeFunction({
          invocation_id: id,
          function_id: entry.localId ?? functionId,
          data,
          traceparent: options.traceparent,
          baggage: withFunctionId(options.baggage, functionId),
          metadata: options.metadata,
        }),
      );
    });
  }

  hasFunction(functionId: string): boolean {
    return this.functions.has(functionId);
  }

  onFunctionsChanged(listener: () => void): () => void {
    return this.functions.onChanged(listener);
  }

  onClose(hook: () => Promise<void> | void): void {
    this.closeHooks.push(hook);
  }

  triggersOfType(triggerType: string): TriggerBinding[] {
    return this.bindings.registry.activeOfType(triggerType).map((e) => e.binding);
  }

  // ---------------------------------------------------------------- connections

  /** A worker socket was accepted on `/`: greet it first, then read its frames in order. `socket` is the TCP socket under `ws`. */
  attach(
    ws: WebSocket,
    ipAddress: string,
    socket?: TransportSocket,
    limits?: OutboundLimits,
    session?: WorkerSession,
  ): WorkerConnection {
    const conn = new WorkerConnection(
      ws,
      ipAddress,
      this.handleRaw,
      (c) => void this.cleanupSafely(c),
      socket,
      limits,
      this.onOverflow,
    );
    conn.session = session;
    this.connections.set(conn.id, conn);
    ws.on('message', (data, isBinary) => conn.receive(data, isBinary));
    ws.on('close', () => conn.markClosed());
    ws.on('error', (error) => this.logger.warn({ worker_id: conn.id, err: error }, 'worker socket error'));
    conn.send(out.workerRegistered(conn.id, conn.reattachToken));
    this.logger.info({ worker_id: conn.id, ip_address: ipAddress }, 'worker connected');
    this.fireWorkersAvailable('worker_connected', conn.id);
    return conn;
  }

  /**
   * Whether `conn` may be evicted when the listener is full: it never sent a frame, or it owns
   * nothing (functions, trigger types, triggers) and has no call in flight.
   */
  isIdle(conn: WorkerConnection): boolean {
    if (conn.framesHandled === 0) return true;
    return (
      this.functions.ownedBy(conn).length === 0 &&
      this.bindings.registry.typesProvidedBy(conn).length === 0 &&
      this.bindings.registry.ownedBy(conn, this.bindings.registry.active).length === 0 &&
      !this.invocations.involves(conn)
    );
  }

  private readonly onOverflow = (conn: WorkerConnection, bufferedBytes: number): void => {
    this.logger.warn(
      { worker_id: conn.id, buffered_bytes: bufferedBytes },
      'closing a connection that does not read its frames (outbound buffer over its cap)',
    );
  };

  /** Run every shutdown hook (reverse order) and fail internal waiters. */
  async close(): Promise<void> {
    for (const p of this.invocations.drain())
      if (p.sink.kind === 'internal') p.sink.reject({ code: 'invocation_stopped', message: 'Engine shutting down' });
    for (const hook of this.closeHooks.reverse()) {
      try {
        await hook();
      } catch (error) {
        this.logger.warn({ err: error }, 'shutdown hook failed');
      }
    }
  }

  private handleRaw = (conn: WorkerConnection, data: RawData, isBinary: boolean): void | Promise<void> => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    // Binary frames prefixed OTLP/MTRC/LOGS carry OTel JSON: telemetry, not routed.
    if (isBinary && buf.length >= 4 && isTelemetryPrefix(buf)) return this.onTelemetry?.(buf);
    const frame = decodeFrame(buf.toString('utf8'));
    if (frame instanceof FrameError) {
      this.logger.warn({ worker_id: conn.id, reason: frame.reason }, 'dropping undecodable frame');
      return;
    }
    conn.framesHandled++;
    if (exceedsDepth(frame, this.options.maxJsonDepth)) return this.refuseDeepFrame(conn, frame);
    try {
      return this.dispatch(conn, frame)?.catch((error: unknown) =>
        this.logger.error({ err: error, worker_id: conn.id, type: frame.type }, 'frame handling failed'),
      );
    } catch (error) {
      this.logger.error({ err: error, worker_id: conn.id, type: frame.type }, 'frame handling failed');
    }
  };

  /**
   * A frame nested deeper than the limit is not routed (it could not be serialized again to
   * forward it). Unlike the real engine, which drops it and lets the caller wait for its own
   * timeout, whoever waits on it gets a structured error at once.
   */
  private refuseDeepFrame(conn: WorkerConnection, frame: InboundFrame): void {
    const error: ErrorBody = {
      code: 'deserialization_error',
      message: depthMessage(frame.type, this.options.maxJsonDepth),
    };
    this.logger.warn({ worker_id: conn.id, type: frame.type }, error.message);
    if (frame.type === 'invokefunction' && frame.invocation_id !== undefined)
      conn.send(out.invocationResult({ invocation_id: frame.invocation_id, function_id: frame.function_id, error }));
    else if (frame.type === 'invocationresult') {
      const p = this.invocations.take(frame.invocation_id, conn);
      if (p) this.deliverResult(p, { invocation_id: p.id, function_id: p.functionId, error });
    } else if (frame.type === 'registertrigger')
      conn.send(out.triggerRegistrationResult(frame.id, frame.trigger_type, frame.function_id, error));
  }

  private dispatch(conn: WorkerConnection, frame: InboundFrame): void | Promise<void> {
    switch (frame.type) {
      case 'invokefunction':
        return this.onInvoke(conn, frame);
      case 'invocationresult':
        return this.onResult(conn, frame);
      case 'registerfunction':
        return this.registrations.registerFunction(conn, frame);
      case 'unregisterfunction':
        this.registrations.unregisterFunction(conn, frame.id);
        return;
      case 'registertriggertype':
        return this.registrations.registerTriggerType(conn, frame);
      case 'registertrigger':
        return this.registrations.registerTrigger(conn, frame);
      case 'unregistertrigger':
        return this.bindings.remove(frame.id).then(() => undefined);
      case 'triggerregistrationresult':
        return this.bindings.onRegistrationResult(conn, frame);
      case 'ping':
        conn.send(out.PONG);
        return;
      case 'reattach':
        return this.onReattach(conn, frame.previous_worker_id, frame.reattach_token);
      case 'registerservice':
      case 'pong':
      case 'workerregistered':
        return; // accepted, nothing to do (services are cosmetic; the SDK never sends them)
    }
  }

  // ---------------------------------------------------------------- invocations

  private onInvoke(conn: WorkerConnection, f: InvokeFunctionFrame): void {
    // The engine tags object payloads with the caller's id (sync and void; not enqueue).
    if (f.action?.type !== 'enqueue' && isPlainObject(f.data)) f.data._caller_worker_id = conn.id;
    if (conn.session !== undefined && gateInvocation(this, conn, conn.session, f)) return;
    this.route(conn, f);
  }

  /** Route an invocation to its target (after the RBAC gate, when there is one). */
  private route(conn: WorkerConnection, f: InvokeFunctionFrame): void {
    const action = f.action;
    if (action !== undefined && action.type === 'enqueue') {
      enqueue(this, f, action.queue, replyTo(conn, f, f.invocation_id !== undefined, this.logger));
      return;
    }
    const wantsReply = action === undefined && f.invocation_id !== undefined;
    const entry = this.functions.get(f.function_id);
    if (entry === undefined) {
      if (wantsReply)
        conn.send(
          out.invocationResult({
            invocation_id: f.invocation_id!,
            function_id: f.function_id,
            error: toErrorBody(functionNotFound(f.function_id)),
          }),
        );
      else
        this.logger.warn(
          { worker_id: conn.id, function_id: f.function_id },
          'void invocation of an unknown function dropped',
        );
      return;
    }
    const data = f.data;
    if (entry.kind === 'builtin') {
      invokeBuiltin(entry.builtin, conn, f, replyTo(conn, f, wantsReply, this.logger));
      return;
    }
    // The target always receives an id: the caller's, or (void / id-less) a fresh one whose reply is discarded.
    const id = wantsReply ? f.invocation_id! : randomUUID();
    this.invocations.add({
      id,
      functionId: f.function_id,
      target: entry.owner,
      sink: wantsReply ? { kind: 'worker', caller: conn } : DISCARD,
    });
    entry.owner.send(
      out.invokeFunction({
        invocation_id: id,
        function_id: entry.localId ?? f.function_id,
        data,
        traceparent: f.traceparent,
        baggage: withFunctionId(f.baggage, f.function_id),
        metadata: f.metadata,
      }),
    );
  }

  private onResult(conn: WorkerConnection, f: InvocationResultFrame): void {
    const p = this.invocations.take(f.invocation_id, conn);
    if (p === undefined) {
      if (this.debug)
        this.logger.debug(
          { worker_id: conn.id, invocation_id: f.invocation_id },
          'result for no pending invocation dropped',
        );
      return;
    }
    this.deliverResult(p, {
      invocation_id: p.id,
      function_id: p.functionId,
      result: f.result,
      error: f.error,
      traceparent: f.traceparent,
      baggage: f.baggage,
    });
  }

  private deliverResult(p: PendingInvocation, fields: out.ResultFields): void {
    const sink = p.sink;
    if (sink.kind === 'worker') sink.caller.send(out.invocationResult(fields));
    else if (sink.kind === 'internal') {
      if (fields.error) sink.reject(fields.error);
      else sink.resolve(fields.result);
    }
  }

  // ---------------------------------------------------------------- reattach

  /** Evict the previous connection (full cleanup) before the replayed registrations land. */
  private onReattach(conn: WorkerConnection, previousId: string, token: string | undefined): void | Promise<void> {
    const id = normalizeUuid(previousId);
    if (id === undefined || id === conn.id) return;
    const previous = this.connections.get(id);
    if (previous === undefined || previous.reattachToken !== token) return;
    this.logger.info({ worker_id: conn.id, previous_worker_id: id }, 'reattach: evicting previous connection');
    previous.evict();
    // Let a frame the old connection is still handling finish first (bounded, like REATTACH_EVICT_TIMEOUT).
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, REATTACH_EVICT_TIMEOUT_MS)));
    return Promise.race([previous.idle(), timeout]).then(() => {
      clearTimeout(timer);
      return this.cleanupSafely(previous);
    });
  }

  // ---------------------------------------------------------------- disconnect

  private cleanupSafely(conn: WorkerConnection): Promise<void> {
    return this.cleanup(conn).catch((error) =>
      this.logger.error({ err: error, worker_id: conn.id }, 'worker cleanup failed'),
    );
  }

  /** `cleanup_worker`, once per connection, in the engine's order. */
  private async cleanup(conn: WorkerConnection): Promise<void> {
    if (conn.cleanedUp) return;
    conn.cleanedUp = true;
    this.connections.delete(conn.id);
    for (const fn of this.functions.ownedBy(conn)) this.functions.releaseIfOwner(fn.id, conn);
    for (const p of this.invocations.halt(conn)) this.stopInvocation(p);
    await this.bindings.releaseConnection(conn);
    // Channels created with engine::channels::create are ownerless; nothing to drop per worker.
    this.logger.info({ worker_id: conn.id, name: conn.info.name }, 'worker disconnected');
    this.fireWorkersAvailable('worker_disconnected', conn.id);
  }

  private stopInvocation(p: PendingInvocation): void {
    const sink = p.sink;
    if (sink.kind === 'worker')
      sink.caller.send(
        out.invocationResult({ invocation_id: p.id, function_id: p.functionId, error: INVOCATION_STOPPED }),
      );
    else if (sink.kind === 'internal') sink.reject(INVOCATION_STOPPED);
  }

  /** Fire `engine::workers-available` to every binding (concurrently, errors only logged). */
  fireWorkersAvailable(
    event: 'worker_connected' | 'worker_disconnected' | 'worker_metadata_updated',
    workerId: string,
  ): void {
    for (const entry of this.bindings.registry.activeOfType('engine::workers-available')) {
      const b = entry.binding;
      this.call(b.function_id, { event, worker_id: workerId }, { metadata: b.metadata }).catch((error) =>
        this.logger.warn({ err: error, function_id: b.function_id }, 'workers-available handler failed'),
      );
    }
  }
}

function isTelemetryPrefix(buf: Buffer): boolean {
  const a = buf[0],
    b = buf[1],
    c = buf[2],
    d = buf[3];
  return (
    (a === 0x4f && b === 0x54 && c === 0x4c && d === 0x50) ||
    (a === 0x4d && b === 0x54 && c === 0x52 && d === 0x43) ||
    (a === 0x4c && b === 0x4f && c === 0x47 && d === 0x53)
  );
}
