/**
 * `iii-stream`: `stream::*` over SQLite and the `stream` trigger type. If a function named
 * `stream::<op>(<stream_name>)` is registered (the SDK's `createStream` does this), the builtin
 * delegates that op to it, then still fires triggers, as the engine does. Trigger events are
 * camelCase: `{type:"stream", timestamp, streamName, groupId, id, event:{type, data}}`.
 */
import { type EngineApi, EngineError, type TriggerBinding } from '../engine-api.js';
import { isPlainObject } from '../errors.js';
import type { StreamStorage } from '../storage.js';
import { StreamStore } from '../store.js';
import { conditionPasses, configString } from './conditions.js';
import { type Input, objectInput, optionalString, requiredString, requiredValue } from './input.js';
import { applyUpdateOps, parseOps, type UpdateOp } from './update-ops.js';

type StreamEvent =
  | { type: 'create' | 'update' | 'delete'; data: unknown }
  | { type: 'event'; event: { type: string; data: unknown } };

/** Where a change goes besides the `stream` triggers (the Redis adapter publishes it for stream clients). */
export type StreamEventSink = (message: {
  type: 'stream';
  timestamp: number;
  streamName: string;
  groupId: string;
  id: string | null;
  event: StreamEvent;
}) => void;

interface Target {
  stream_name: string;
  group_id: string;
  item_id: string;
}

/** `store`: where the items live (default: the engine's SQLite database); `emit`: see StreamEventSink. */
export function installStream(
  api: EngineApi,
  store: StreamStorage = new StreamStore(api.db),
  emit?: StreamEventSink,
): void {
  const triggers = new Map<string, TriggerBinding>();

  /** Matching triggers run sequentially in one task per write; empty group/item in config = any. */
  const fire = (streamName: string, groupId: string, id: string | null, event: StreamEvent) => {
    emit?.({ type: 'stream', timestamp: Date.now(), streamName, groupId, id, event });
    const matching: TriggerBinding[] = [];
    for (const t of triggers.values()) {
      if (configString(t.config, 'stream_name') !== streamName) continue;
      const g = configString(t.config, 'group_id') ?? '';
      const i = configString(t.config, 'item_id') ?? '';
      if ((g !== '' && g !== groupId) || (i !== '' && i !== (id ?? ''))) continue;
      matching.push(t);
    }
    if (matching.length === 0) return;
    const message = { type: 'stream', timestamp: Date.now(), streamName, groupId, id, event };
    setImmediate(async () => {
      for (const t of matching) {
        if (!(await conditionPasses(api, configString(t.config, 'condition_function_id'), message))) continue;
        try {
          await api.call(t.function_id, message, { metadata: t.metadata });
        } catch (error) {
          api.logger.error({ err: error, function_id: t.function_id }, 'Error invoking stream trigger handler');
        }
      }
    });
  };

  const target = (fnId: string, input: Input): Target => ({
    stream_name: requiredString(fnId, input, 'stream_name'),
    group_id: requiredString(fnId, input, 'group_id'),
    item_id: requiredString(fnId, input, 'item_id'),
  });

  /** The custom implementation for `op` on this stream, if one is registered. */
  const override = (op: string, streamName: string): string | undefined => {
    const id = `stream::${op}(${streamName})`;
    return api.hasFunction(id) ? id : undefined;
  };

  /** Call a custom implementation that must return `{old_value?, new_value}`-like results. */
  const delegateResult = async (fnId: string, input: unknown, code: string): Promise<Record<string, unknown>> => {
    let result: unknown;
    try {
      result = await api.call(fnId, input);
    } catch (error) {
      throw new EngineError(code, `Failed to invoke function: ${(error as Error).message}`);
    }
    if (result === undefined) throw new EngineError(code, 'Function returned no result');
    if (!isPlainObject(result))
      throw new EngineError('JSON_ERROR', 'Failed to convert result to value: expected an object');
    return result;
  };

  const fn = (id: string, description: string, handler: (input: Input) => unknown) =>
    api.registerFunction({ id, description, worker: 'iii-stream', handler: (data) => handler(objectInput(id, data)) });

  fn('stream::set', 'Set a value in a stream', async (input) => {
    const t = target('stream::set', input);
    const data = requiredValue('stream::set', input, 'data');
    const custom = override('set', t.stream_name);
    let result: { old_value: unknown; new_value: unknown };
    if (custom) {
      const r = await delegateResult(custom, { ...t, data }, 'STREAM_SET_ERROR');
      result = { old_value: r.old_value ?? null, new_value: r.new_value ?? null };
    } else {
      const old = await store.set(t.stream_name, t.group_id, t.item_id, data);
      result = { old_value: old ?? null, new_value: data };
    }
    fire(t.stream_name, t.group_id, t.item_id, {
      type: result.old_value === null ? 'create' : 'update',
      data: result.new_value,
    });
    return result;
  });

  fn('stream::get', 'Get a value from a stream', async (input) => {
    const t = target('stream::get', input);
    const custom = override('get', t.stream_name);
    return custom ? api.call(custom, t) : store.get(t.stream_name, t.group_id, t.item_id);
  });

  fn('stream::delete', 'Delete a value from a stream', async (input) => {
    const t = target('stream::delete', input);
    const custom = override('delete', t.stream_name);
    const old = custom
      ? ((await delegateResult(custom, t, 'STREAM_DELETE_ERROR')).old_value ?? null)
      : ((await store.delete(t.stream_name, t.group_id, t.item_id)) ?? null);
    // Only a delete that removed something fires.
    if (old !== null) fire(t.stream_name, t.group_id, t.item_id, { type: 'delete', data: old });
    return { old_value: old };
  });

  fn('stream::list', 'List all items in a stream group', async (input) => {
    const stream_name = requiredString('stream::list', input, 'stream_name');
    const group_id = requiredString('stream::list', input, 'group_id');
    const custom = override('list', stream_name);
    return custom ? api.call(custom, { stream_name, group_id }) : store.list(stream_name, group_id);
  });

  fn('stream::list_groups', 'List all groups in a stream', async (input) => {
    const stream_name = requiredString('stream::list_groups', input, 'stream_name');
    const custom = override('list_groups', stream_name);
    return custom ? api.call(custom, { stream_name }) : store.groups(stream_name);
  });

  fn('stream::list_all', 'List all available stream with metadata', async () => {
    const stream = await store.streams();
    return { stream, count: stream.length };
  });

  fn('stream::send', 'Send a custom event to stream subscribers', (input) => {
    const stream_name = requiredString('stream::send', input, 'stream_name');
    const group_id = requiredString('stream::send', input, 'group_id');
    const id = optionalString('stream::send', input, 'id') ?? null;
    const type = requiredString('stream::send', input, 'type');
    const data = requiredValue('stream::send', input, 'data');
    fire(stream_name, group_id, id, { type: 'event', event: { type, data } });
    return null;
  });

  fn('stream::update', 'Atomically update a stream value with multiple operations', async (input) => {
    const t = target('stream::update', input);
    const ops: UpdateOp[] = parseOps('stream::update', input.ops);
    const custom = override('update', t.stream_name);
    let result: Record<string, unknown>;
    if (custom) {
      const r = await delegateResult(custom, { ...t, ops }, 'STREAM_UPDATE_ERROR');
      result = { old_value: r.old_value ?? null, new_value: r.new_value ?? null };
      if (Array.isArray(r.errors) && r.errors.length) result.errors = r.errors;
    } else {
      result = await store.update(t.stream_name, t.group_id, t.item_id, (old, copyOfOld) => {
        const r = applyUpdateOps(old, ops, copyOfOld);
        const res: Record<string, unknown> = { old_value: old ?? null, new_value: r.value };
        if (r.errors.length) res.errors = r.errors;
        return { value: r.value, result: res };
      });
    }
    fire(t.stream_name, t.group_id, t.item_id, {
      type: result.old_value === null ? 'create' : 'update',
      data: result.new_value,
    });
    return result;
  });

  api.registerTriggerType('stream', 'Stream trigger', {
    worker: 'iii-stream',
    registerTrigger: (binding) => {
      // The engine unwraps stream_name; a binding without it is rejected here instead of crashing.
      if (configString(binding.config, 'stream_name') === undefined)
        throw new Error('stream trigger config requires `stream_name`');
      triggers.set(binding.id, binding);
    },
    unregisterTrigger: (binding) => void triggers.delete(binding.id),
  });

  // Browser clients join/leave over the stream WebSocket (port 3112), which the dev engine does
  // not serve: the types exist so bindings are accepted (not parked), but they never fire.
  for (const [id, description] of [
    ['stream:join', 'Stream join trigger'],
    ['stream:leave', 'Stream leave trigger'],
  ] as const) {
    api.registerTriggerType(id, description, {
      worker: 'iii-stream',
      registerTrigger: () => undefined,
      unregisterTrigger: () => undefined,
    });
  }
}
