/**
 * Registration gates of an RBAC session. Each registration frame passes the session's flags,
 * then the listener's optional hook function, which gets the registration plus the session's
 * `context`. A hook answering with an object allows it, and the object's fields (when present)
 * replace the registration's; any other answer, or an error, denies it. Denials are silent, as
 * in the engine: nothing is sent to the worker.
 *
 * `function_registration_prefix` stores a session's functions as `<prefix>::<id>` (and its
 * trigger registrations point at the prefixed id); the worker keeps calling them by its own id.
 */
import type { EngineApi } from '../engine-api.js';
import { isPlainObject } from '../errors.js';
import type { RegisterFunctionFrame, RegisterTriggerFrame, RegisterTriggerTypeFrame } from '../protocol/frames.js';
import type { WorkerSession } from './policy.js';

type Obj = Record<string, unknown>;

/** Ask a hook; undefined means denied. */
async function ask(api: EngineApi, hook: string | undefined, input: Obj): Promise<Obj | undefined> {
  if (hook === undefined) return {};
  try {
    const answer = await api.call(hook, input);
    return isPlainObject(answer) ? answer : undefined;
  } catch {
    return undefined;
  }
}

const stringOr = (v: unknown, fallback: string) => (typeof v === 'string' ? v : fallback);

export function prefixed(session: WorkerSession, id: string): string {
  return session.function_registration_prefix === undefined ? id : `${session.function_registration_prefix}::${id}`;
}

/** The registration as it should be stored, or undefined when denied. `id` is what callers use. */
export async function gateFunction(
  api: EngineApi,
  session: WorkerSession,
  f: RegisterFunctionFrame,
): Promise<RegisterFunctionFrame | undefined> {
  if (!session.allow_function_registration) return undefined;
  const id = prefixed(session, f.id);
  const answer = await ask(api, session.rbac?.on_function_registration_function_id, {
    function_id: id,
    description: f.description,
    metadata: f.metadata,
    context: session.context,
  });
  if (!answer) return undefined;
  return {
    ...f,
    id: stringOr(answer.function_id, id),
    description: typeof answer.description === 'string' ? answer.description : f.description,
    metadata: answer.metadata !== undefined ? answer.metadata : f.metadata,
  };
}

export async function gateTriggerType(
  api: EngineApi,
  session: WorkerSession,
  f: RegisterTriggerTypeFrame,
): Promise<RegisterTriggerTypeFrame | undefined> {
  if (!session.allow_trigger_type_registration) return undefined;
  const answer = await ask(api, session.rbac?.on_trigger_type_registration_function_id, {
    trigger_type_id: f.id,
    description: f.description,
    context: session.context,
  });
  if (!answer) return undefined;
  return { ...f, id: stringOr(answer.trigger_type_id, f.id), description: stringOr(answer.description, f.description) };
}

export async function gateTrigger(
  api: EngineApi,
  session: WorkerSession,
  f: RegisterTriggerFrame,
): Promise<RegisterTriggerFrame | undefined> {
  if (session.allowed_trigger_types !== undefined && !session.allowed_trigger_types.includes(f.trigger_type))
    return undefined;
  const functionId = prefixed(session, f.function_id);
  const answer = await ask(api, session.rbac?.on_trigger_registration_function_id, {
    trigger_id: f.id,
    trigger_type: f.trigger_type,
    function_id: functionId,
    config: f.config,
    metadata: f.metadata,
    context: session.context,
  });
  if (!answer) return undefined;
  return {
    ...f,
    id: stringOr(answer.trigger_id, f.id),
    trigger_type: stringOr(answer.trigger_type, f.trigger_type),
    function_id: stringOr(answer.function_id, functionId),
    config: answer.config !== undefined ? answer.config : f.config,
  };
}
