/**
 * What a connection registers: functions (worker-served or HTTP-invoked), trigger types and
 * triggers. Every registration passes, in order:
 * - the session's RBAC gates (listeners with an `rbac` block; see rbac/hooks.ts), which may deny
 *   it silently or rewrite it;
 * - for functions, the holder rule: an id held by a live connection (or a builtin) is refused
 *   with `registrationrejected` (v0.23's FUNCTION_NAMESPACE_CONFLICT; v0.22.1 let the newer
 *   registration take it over). A holder whose socket has closed — a worker reconnecting before
 *   its old connection's cleanup ran, or one evicted by reattach — no longer counts.
 */
import { bindingOf } from './bindings.js';
import type { WorkerConnection } from './connection.js';
import { toErrorBody } from './errors.js';
import { type HttpFunctionsConfig, httpFunctionHandler } from './http-functions/index.js';
import type { RegisterFunctionFrame, RegisterTriggerFrame, RegisterTriggerTypeFrame } from './protocol/frames.js';
import * as out from './protocol/outbound.js';
import { gateFunction, gateTrigger, gateTriggerType, prefixed } from './rbac/hooks.js';
import type { FunctionEntry } from './registry/functions.js';
import type { Router } from './router.js';

export class Registrations {
  /** Set when `iii-http-functions` is enabled. */
  httpFunctions: HttpFunctionsConfig | undefined;

  constructor(private readonly router: Router) {}

  async registerFunction(conn: WorkerConnection, frame: RegisterFunctionFrame): Promise<void> {
    const f = conn.session ? await gateFunction(this.router, conn.session, frame) : frame;
    if (f === undefined) return this.denied(conn, 'function', frame.id);
    const holder = this.liveHolder(f.id, conn);
    if (holder !== undefined) return this.reject(conn, f.id, holder);
    if (f.invocation !== undefined) return this.registerHttpFunction(conn, f);
    const entry: FunctionEntry = {
      kind: 'remote',
      id: f.id,
      description: f.description,
      request_format: f.request_format,
      response_format: f.response_format,
      metadata: f.metadata,
      registeredAtMs: Date.now(),
      owner: conn,
    };
    if (f.id !== frame.id) entry.localId = frame.id;
    this.router.functions.claim(entry);
  }

  unregisterFunction(conn: WorkerConnection, id: string): void {
    this.router.functions.releaseIfOwner(conn.session ? prefixed(conn.session, id) : id, conn);
  }

  async registerTriggerType(conn: WorkerConnection, frame: RegisterTriggerTypeFrame): Promise<void> {
    const f = conn.session ? await gateTriggerType(this.router, conn.session, frame) : frame;
    if (f === undefined) return this.denied(conn, 'trigger type', frame.id);
    await this.router.bindings.installType({
      id: f.id,
      description: f.description,
      provider: { kind: 'worker', conn },
      trigger_request_format: f.trigger_request_format,
      call_request_format: f.call_request_format,
    });
  }

  async registerTrigger(conn: WorkerConnection, frame: RegisterTriggerFrame): Promise<void> {
    const f = conn.session ? await gateTrigger(this.router, conn.session, frame) : frame;
    if (f === undefined) return this.denied(conn, 'trigger', frame.id);
    try {
      await this.router.bindings.activate({ binding: bindingOf(f, conn.id), owner: conn });
    } catch (error) {
      const body = toErrorBody(error);
      this.router.logger.warn(
        { worker_id: conn.id, trigger_id: f.id, trigger_type: f.trigger_type, error: body.message },
        'trigger registration failed',
      );
      conn.send(
        out.triggerRegistrationResult(f.id, f.trigger_type, f.function_id, {
          code: 'trigger_registration_failed',
          message: body.message,
        }),
      );
    }
  }

  /** Another live connection's id of the holder, `engine` for a builtin, or undefined when the id is free. */
  private liveHolder(id: string, claimant: WorkerConnection): string | undefined {
    const current = this.router.functions.get(id);
    if (current === undefined) return undefined;
    const owner = current.owner;
    if (owner === undefined) return 'engine';
    if (owner === claimant || !owner.isOpen) return undefined;
    return owner.id;
  }

  private reject(conn: WorkerConnection, functionId: string, ownerWorkerId: string): void {
    this.router.logger.warn(
      { function_id: functionId, worker_id: conn.id, owner_worker_id: ownerWorkerId },
      'function registration refused: the id is held by another live connection',
    );
    conn.send(out.registrationRejected(functionId, ownerWorkerId));
  }

  private denied(conn: WorkerConnection, what: string, id: string): void {
    this.router.logger.info({ worker_id: conn.id, id }, `${what} registration denied by RBAC`);
  }

  private async registerHttpFunction(conn: WorkerConnection, f: RegisterFunctionFrame): Promise<void> {
    const config = this.httpFunctions;
    if (config === undefined) {
      this.router.logger.warn(
        { worker_id: conn.id, function_id: f.id },
        'HTTP-invoked functions need the iii-http-functions worker (not in the config); registration ignored',
      );
      return;
    }
    let handler: (data: unknown) => Promise<unknown>;
    try {
      handler = await httpFunctionHandler(f, config);
    } catch (error) {
      const body = toErrorBody(error);
      this.router.logger.warn({ worker_id: conn.id, function_id: f.id, ...body }, 'HTTP function registration refused');
      return;
    }
    if (!conn.isOpen || this.liveHolder(f.id, conn) !== undefined) return;
    this.router.functions.claim({
      kind: 'builtin',
      id: f.id,
      description: f.description,
      request_format: f.request_format,
      response_format: f.response_format,
      metadata: f.metadata,
      registeredAtMs: Date.now(),
      owner: conn,
      builtin: { id: f.id, description: f.description, handler },
    });
  }
}
