/**
 * `iii-engine-functions`: the `engine::*` catalogue (functions, trigger types, registered
 * triggers, workers), function-form trigger registration, and the engine's own trigger types
 * `engine::workers-available` and `engine::functions-available`.
 */
import { randomUUID } from 'node:crypto';
import {
  type Input,
  objectInput,
  optionalBoolean,
  optionalString,
  optionalStringArray,
  requiredString,
} from './builtins/input.js';
import type { WorkerInfo } from './connection.js';
import { EngineError } from './engine-api.js';
import { isPlainObject } from './errors.js';
import { forbiddenMessage, isFunctionAllowed } from './rbac/policy.js';
import type { FunctionEntry } from './registry/functions.js';
import type { BindingEntry, TriggerTypeEntry } from './registry/triggers.js';
import type { Router } from './router.js';

/** The engine release whose protocol this engine speaks. */
export const ENGINE_VERSION = '0.22.1';
const ENGINE_WORKER = 'iii-engine-functions';
const MAX_INFO_IDS = 32;

/** Fallback worker name: the id's first `::` segment, or the whole id. */
export function serviceOf(id: string): string {
  const i = id.indexOf('::');
  return i === -1 ? id : id.slice(0, i);
}

export interface CatalogueOptions {
  /** In-process workers to list (runtime "engine"). */
  inProcessWorkers: string[];
  /** How often `engine::functions-available` compares the function list (engine: 5 s). */
  functionsPollMs?: number;
  startedAtMs: number;
}

export function installCatalogue(router: Router, options: CatalogueOptions): void {
  const { functions, bindings, invocations, connections } = router;
  const registry = bindings.registry;

  const functionWorker = (f: FunctionEntry) =>
    f.owner
      ? (f.owner.info.name ?? serviceOf(f.id))
      : f.kind === 'builtin'
        ? (f.builtin.worker ?? serviceOf(f.id))
        : serviceOf(f.id);
  /** On an RBAC listener a caller sees only the functions it may call (the engine's allow check). */
  const visibleTo = (callerWorkerId: string | undefined) => {
    const session = callerWorkerId ? connections.get(callerWorkerId)?.session : undefined;
    return (f: FunctionEntry) => session === undefined || isFunctionAllowed(session, f.id, f.metadata);
  };
  const typeWorker = (t: TriggerTypeEntry) =>
    t.provider.kind === 'worker'
      ? (t.provider.conn.info.name ?? serviceOf(t.id))
      : (t.provider.impl.worker ?? (t.id.startsWith('engine::') ? ENGINE_WORKER : serviceOf(t.id)));
  const bindingWorker = (b: BindingEntry) => b.owner?.info.name ?? functionWorkerById(b.binding.function_id);
  const functionWorkerById = (id: string) => {
    const f = functions.get(id);
    return f ? functionWorker(f) : serviceOf(id);
  };

  const summary = (f: FunctionEntry) => ({
    function_id: f.id,
    worker_name: functionWorker(f),
    description: f.description,
    metadata: f.metadata,
  });
  const isInternalFunction = (f: FunctionEntry) =>
    (f.id.startsWith('engine::') && !f.id.startsWith('engine::queue::')) ||
    (isPlainObject(f.metadata) && f.metadata.internal === true);

  const triggerRow = (b: BindingEntry) => {
    const config = b.binding.config;
    const json = JSON.stringify(config) ?? 'null';
    return {
      id: b.binding.id,
      trigger_type: b.binding.trigger_type,
      function_id: b.binding.function_id,
      worker_name: bindingWorker(b),
      config,
      config_summary: json.length > 80 ? `${json.slice(0, 80)}…` : json,
    };
  };

  const functionDetail = (f: FunctionEntry) => ({
    function_id: f.id,
    worker_name: functionWorker(f),
    description: f.description,
    request_schema: f.request_format,
    response_schema: f.response_format,
    metadata: f.metadata,
    registered_triggers: [...registry.active.values()]
      .filter((b) => b.binding.function_id === f.id)
      .map((b) => ({ id: b.binding.id, trigger_type: b.binding.trigger_type, config: b.binding.config })),
  });

  const typeDetail = (t: TriggerTypeEntry) => ({
    id: t.id,
    worker_name: typeWorker(t),
    description: t.description,
    configuration_schema: t.trigger_request_format,
    request_schema: t.call_request_format,
    instance_count: registry.activeOfType(t.id).length,
  });

  const matchesSearch = (needle: string | undefined, ...hay: Array<string | undefined>) => {
    if (!needle) return true;
    const n = needle.toLowerCase();
    return hay.some((h) => h?.toLowerCase().includes(n));
  };

  const fn = (id: string, description: string, handler: (input: Input, callerWorkerId?: string) => unknown) =>
    router.registerFunction({
      id,
      description,
      worker: ENGINE_WORKER,
      handler: (data, ctx) =>
        handler(data === undefined || data === null ? {} : objectInput(id, data), ctx.callerWorkerId),
    });

  const listFunctions = (input: Input = {}, visible: (f: FunctionEntry) => boolean = () => true) => {
    const id = 'engine::functions::list';
    const search = optionalString(id, input, 'search');
    const prefix = optionalString(id, input, 'prefix');
    const worker = optionalString(id, input, 'worker');
    const workers = optionalStringArray(id, input, 'workers');
    const includeInternal = optionalBoolean(id, input, 'include_internal') ?? false;
    return [...functions.all()]
      .filter((f) => (includeInternal || !isInternalFunction(f)) && visible(f))
      .filter((f) => (prefix ? f.id.startsWith(prefix) : true) && matchesSearch(search, f.id, f.description))
      .filter(
        (f) => (worker ? functionWorker(f) === worker : true) && (workers ? workers.includes(functionWorker(f)) : true),
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map(summary);
  };

  fn('engine::functions::list', 'List registered functions with their owning worker name.', (input, caller) => ({
    functions: listFunctions(input, visibleTo(caller)),
  }));

  fn('engine::functions::info', 'Inspect one function: schemas, owner, and registered triggers.', (input, caller) => {
    const id = 'engine::functions::info';
    const visible = visibleTo(caller);
    const single = optionalString(id, input, 'function_id');
    const many = optionalStringArray(id, input, 'function_ids');
    if ((single === undefined) === (many === undefined))
      throw new EngineError('INVALID_ARGUMENTS', 'Provide exactly one of `function_id` or `function_ids`');
    if (single !== undefined) {
      const f = functions.get(single);
      if (!f) throw new EngineError('NOT_FOUND', `Function ${single} not found`);
      if (!visible(f)) throw new EngineError('FORBIDDEN', forbiddenMessage(single));
      return functionDetail(f);
    }
    if (many!.length > MAX_INFO_IDS)
      throw new EngineError('INVALID_ARGUMENTS', `At most ${MAX_INFO_IDS} function_ids per call`);
    return {
      functions: many!.map((fid) => {
        const f = functions.get(fid);
        if (!f) return { function_id: fid, error: 'not_found' };
        return visible(f) ? functionDetail(f) : { function_id: fid, error: 'forbidden' };
      }),
    };
  });

  fn('engine::triggers::list', 'List trigger types registered with the engine.', (input) => {
    const id = 'engine::triggers::list';
    const search = optionalString(id, input, 'search');
    const prefix = optionalString(id, input, 'prefix');
    const worker = optionalString(id, input, 'worker');
    const includeInternal = optionalBoolean(id, input, 'include_internal') ?? false;
    const triggers = [...registry.types.values()]
      .filter(
        (t) =>
          (includeInternal || !t.id.startsWith('engine::')) &&
          (prefix ? t.id.startsWith(prefix) : true) &&
          matchesSearch(search, t.id, t.description),
      )
      .filter((t) => (worker ? typeWorker(t) === worker : true))
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((t) => ({ id: t.id, worker_name: typeWorker(t), description: t.description }));
    return { triggers };
  });

  fn('engine::triggers::info', 'Inspect one trigger type: schemas, owner, and live instance count.', (input) => {
    const typeId = requiredString('engine::triggers::info', input, 'id');
    const t = registry.types.get(typeId);
    if (!t) throw new EngineError('NOT_FOUND', `Trigger type ${typeId} not found`);
    return typeDetail(t);
  });

  fn('engine::registered-triggers::list', 'List registered trigger instances (subscriber rows).', (input) => {
    const id = 'engine::registered-triggers::list';
    const search = optionalString(id, input, 'search');
    const type = optionalString(id, input, 'trigger_type');
    const functionId = optionalString(id, input, 'function_id');
    const worker = optionalString(id, input, 'worker');
    const includeInternal = optionalBoolean(id, input, 'include_internal') ?? false;
    const rows = [...registry.active.values()]
      .filter(
        (b) =>
          (includeInternal || !b.binding.function_id.startsWith('engine::')) &&
          (type ? b.binding.trigger_type === type : true) &&
          (functionId ? b.binding.function_id === functionId : true),
      )
      .filter(
        (b) =>
          (worker ? bindingWorker(b) === worker : true) &&
          matchesSearch(search, b.binding.id, b.binding.trigger_type, b.binding.function_id),
      )
      .sort((a, b) => (a.binding.id < b.binding.id ? -1 : 1))
      .map(triggerRow);
    return { registered_triggers: rows };
  });

  fn(
    'engine::registered-triggers::info',
    'Inspect one registered trigger with denormalized trigger and function detail.',
    (input) => {
      const triggerId = requiredString('engine::registered-triggers::info', input, 'id');
      const b = registry.active.get(triggerId);
      if (!b) throw new EngineError('NOT_FOUND', `Registered trigger ${triggerId} not found`);
      const type = registry.types.get(b.binding.trigger_type);
      const f = functions.get(b.binding.function_id);
      return {
        ...triggerRow(b),
        metadata: b.binding.metadata,
        trigger: type ? typeDetail(type) : null,
        function: f ? functionDetail(f) : null,
      };
    },
  );

  const workerRows = () => {
    const rows: Array<Record<string, unknown>> = [];
    for (const name of options.inProcessWorkers) {
      const own = [...functions.all()].filter((f) => f.kind === 'builtin' && f.builtin.worker === name);
      rows.push({
        name,
        description: null,
        version: ENGINE_VERSION,
        id: name,
        runtime: 'engine',
        os: `${process.platform} (${process.arch})`,
        status: 'available',
        function_count: own.length,
        connected_at_ms: options.startedAtMs,
        active_invocations: 0,
        isolation: 'in-process',
        ip_address: null,
        internal: true,
      });
    }
    for (const c of connections.values()) {
      if (c.info.pid === undefined) continue; // listed only once the worker reported its metadata
      rows.push({
        name: c.info.name ?? c.id,
        description: c.info.description ?? null,
        version: c.info.version ?? null,
        id: c.id,
        runtime: c.info.runtime ?? null,
        os: c.info.os ?? null,
        status: 'connected',
        function_count: functions.ownedBy(c).length,
        connected_at_ms: c.connectedAtMs,
        active_invocations: invocations.activeFor(c),
        isolation: c.info.isolation ?? null,
        ip_address: c.ipAddress,
        pid: c.info.pid,
        internal: false,
      });
    }
    return rows;
  };

  fn('engine::workers::list', 'List workers connected to the engine.', (input) => {
    const id = 'engine::workers::list';
    const search = optionalString(id, input, 'search');
    const runtime = optionalString(id, input, 'runtime');
    const status = optionalString(id, input, 'status');
    const workers = workerRows()
      .filter(
        (w) =>
          matchesSearch(search, w.name as string, w.id as string) &&
          (runtime ? w.runtime === runtime : true) &&
          (status ? w.status === status : true),
      )
      .map(({ pid: _pid, internal: _internal, ...row }) => row);
    return { workers };
  });

  fn('engine::workers::info', "Inspect one connected worker's full surface.", (input) => {
    const name = requiredString('engine::workers::info', input, 'name');
    const row = workerRows().find((w) => w.name === name || w.id === name);
    if (!row) throw new EngineError('NOT_FOUND', `Worker ${name} not found`);
    const conn = connections.get(row.id as string);
    const own = [...functions.all()].filter((f) =>
      conn ? f.kind === 'remote' && f.owner === conn : f.kind === 'builtin' && f.builtin.worker === name,
    );
    const types = [...registry.types.values()].filter((t) =>
      conn
        ? t.provider.kind === 'worker' && t.provider.conn === conn
        : t.provider.kind === 'builtin' && t.provider.impl.worker === name,
    );
    const triggers = [...registry.active.values()].filter((b) => (conn ? b.owner === conn : false));
    return {
      worker: row,
      functions: own.map(summary),
      trigger_types: types.map((t) => ({ id: t.id, description: t.description })),
      registered_triggers: triggers.map(triggerRow),
    };
  });

  fn(
    'engine::workers::register',
    'Register worker metadata (called by SDK workers on connect).',
    (input, callerWorkerId) => {
      const conn = callerWorkerId ? connections.get(callerWorkerId) : undefined;
      if (!conn) throw new EngineError('NOT_FOUND', 'engine::workers::register must be called by a connected worker');
      const info: WorkerInfo = {};
      for (const key of ['name', 'description', 'runtime', 'version', 'os'] as const)
        if (typeof input[key] === 'string') info[key] = input[key] as string;
      if (typeof input.pid === 'number') info.pid = input.pid;
      if (typeof input.isolation === 'string' || input.isolation === null)
        info.isolation = input.isolation as string | null;
      if (input.telemetry !== undefined) info.telemetry = input.telemetry;
      conn.info = { ...conn.info, ...info };
      router.fireWorkersAvailable('worker_metadata_updated', conn.id);
      return { success: true };
    },
  );

  fn('engine::register_trigger', 'Register an ownerless trigger (survives disconnects).', async (input) => {
    const id = 'engine::register_trigger';
    const trigger_type = requiredString(id, input, 'trigger_type');
    const function_id = requiredString(id, input, 'function_id');
    const triggerId = randomUUID();
    const binding = {
      id: triggerId,
      trigger_type,
      function_id,
      config: input.config ?? {},
      ...(isPlainObject(input.metadata) ? { metadata: input.metadata } : {}),
    };
    const type = registry.types.get(trigger_type);
    const ack = type?.provider.kind === 'worker' ? bindings.waitForAck(triggerId) : undefined;
    await bindings.activate({ binding });
    const error = ack ? await ack : undefined; // a worker provider that never answers: fail open after 10 s
    if (error) {
      await bindings.remove(triggerId);
      throw new EngineError('trigger_registration_failed', error.message);
    }
    return { id: triggerId };
  });

  fn('engine::unregister_trigger', 'Remove a trigger registered with engine::register_trigger.', async (input) => {
    const triggerId = requiredString('engine::unregister_trigger', input, 'id');
    return { removed: await bindings.remove(triggerId) };
  });

  // Engine trigger types: bindings live in the registry; firing reads them from there.
  const accept = { worker: ENGINE_WORKER, registerTrigger: () => undefined, unregisterTrigger: () => undefined };
  router.registerTriggerType(
    'engine::workers-available',
    'Fires when workers connect, disconnect, or update their metadata.',
    accept,
  );
  router.registerTriggerType(
    'engine::functions-available',
    'Fires when the function registry changes (polled).',
    accept,
  );

  let lastSignature = '';
  const poll = setInterval(() => {
    const list = listFunctions();
    const signature = JSON.stringify(list.map((f) => [f.function_id, f.worker_name, f.description]));
    if (signature === lastSignature) return;
    lastSignature = signature;
    for (const b of registry.activeOfType('engine::functions-available')) {
      router
        .call(b.binding.function_id, { event: 'functions_changed', functions: list }, { metadata: b.binding.metadata })
        .catch((error) => router.logger.warn({ err: error }, 'functions-available handler failed'));
    }
  }, options.functionsPollMs ?? 5000);
  poll.unref();
  lastSignature = JSON.stringify(listFunctions().map((f) => [f.function_id, f.worker_name, f.description]));
  router.onClose(() => clearInterval(poll));
}
