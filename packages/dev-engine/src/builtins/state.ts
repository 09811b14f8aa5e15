/**
 * `iii-state`: `state::{set,get,delete,update,list,list_groups}` over SQLite, and the `state`
 * trigger type. Result shapes are the engine's, quirks included: `get` on a missing key and
 * `delete` return no result; `delete` returns the raw old value (not `{old_value}`);
 * `list_groups` returns `{groups}` (sorted, deduplicated).
 */
import { type EngineApi, EngineError, type TriggerBinding } from '../engine-api.js';
import type { StateStorage } from '../storage.js';
import { StateStore } from '../store.js';
import { conditionPasses, configString } from './conditions.js';
import { objectInput, requiredString, requiredValue } from './input.js';
import { applyUpdateOps, parseOps } from './update-ops.js';

export interface StateConfig {
  /** Fire `state` triggers on writes (default true). */
  triggers_enabled?: boolean;
  /** Reject larger values with VALUE_TOO_LARGE (JSON bytes); unlimited by default. */
  max_value_bytes?: number;
}

type StateEventType = 'state:created' | 'state:updated' | 'state:deleted';

/** `store`: where the values live (default: the engine's SQLite database). */
export function installState(
  api: EngineApi,
  config: StateConfig = {},
  store: StateStorage = new StateStore(api.db),
): void {
  const triggers = new Map<string, TriggerBinding>();
  const triggersEnabled = config.triggers_enabled ?? true;

  const checkSize = (value: unknown) => {
    if (config.max_value_bytes === undefined) return;
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? 'null');
    if (bytes > config.max_value_bytes)
      throw new EngineError(
        'VALUE_TOO_LARGE',
        `Value of ${bytes} bytes exceeds max_value_bytes (${config.max_value_bytes})`,
      );
  };

  /** One task per write; matching triggers run one after another; the writer does not wait. */
  const fire = (event_type: StateEventType, scope: string, key: string, old_value: unknown, new_value: unknown) => {
    if (!triggersEnabled || triggers.size === 0) return;
    const matching = [...triggers.values()].filter((t) => {
      const s = configString(t.config, 'scope');
      const k = configString(t.config, 'key');
      return (s === undefined || s === scope) && (k === undefined || k === key);
    });
    if (matching.length === 0) return;
    const event = { type: 'state', event_type, scope, key, old_value: old_value ?? null, new_value: new_value ?? null };
    setImmediate(async () => {
      for (const t of matching) {
        if (!(await conditionPasses(api, configString(t.config, 'condition_function_id'), event))) continue;
        try {
          await api.call(t.function_id, event, { metadata: t.metadata });
        } catch (error) {
          api.logger.error({ err: error, function_id: t.function_id }, 'Error invoking state trigger handler');
        }
      }
    });
  };

  const fn = (id: string, description: string, handler: (input: Record<string, unknown>) => unknown) =>
    api.registerFunction({ id, description, worker: 'iii-state', handler: (data) => handler(objectInput(id, data)) });

  fn('state::set', 'Set a value in state', async (input) => {
    const scope = requiredString('state::set', input, 'scope');
    const key = requiredString('state::set', input, 'key');
    const value = requiredValue('state::set', input, 'value', 'data');
    checkSize(value);
    const old = await store.set(scope, key, value);
    fire(old === undefined ? 'state:created' : 'state:updated', scope, key, old, value);
    return { old_value: old ?? null, new_value: value };
  });

  fn('state::get', 'Get a value from state', (input) =>
    store.get(requiredString('state::get', input, 'scope'), requiredString('state::get', input, 'key')),
  );

  fn('state::delete', 'Delete a value from state', async (input) => {
    const scope = requiredString('state::delete', input, 'scope');
    const key = requiredString('state::delete', input, 'key');
    const old = await store.delete(scope, key);
    // The engine fires state:deleted even when nothing was there.
    fire('state:deleted', scope, key, old, null);
    return old;
  });

  fn('state::update', 'Update a value in state', async (input) => {
    const scope = requiredString('state::update', input, 'scope');
    const key = requiredString('state::update', input, 'key');
    const ops = parseOps('state::update', input.ops);
    const { old, value, errors } = await store.update(scope, key, (o, copyOfOld) => {
      const r = applyUpdateOps(o, ops, copyOfOld);
      checkSize(r.value);
      return { value: r.value, result: { old: o, value: r.value, errors: r.errors } };
    });
    fire(old === undefined ? 'state:created' : 'state:updated', scope, key, old, value);
    return errors.length
      ? { old_value: old ?? null, new_value: value, errors }
      : { old_value: old ?? null, new_value: value };
  });

  fn('state::list', 'Get a group from state', (input) => store.list(requiredString('state::list', input, 'scope')));

  fn('state::list_groups', 'List all state groups', async () => ({ groups: await store.groups() }));

  api.registerTriggerType('state', 'State trigger', {
    worker: 'iii-state',
    registerTrigger: (binding) => void triggers.set(binding.id, binding),
    unregisterTrigger: (binding) => void triggers.delete(binding.id),
  });
}
