/**
 * The v0.22.1 worker <-> engine message catalogue, and a hand-written decoder for it.
 *
 * The real engine deserializes each frame with serde into `enum Message` and drops (with a warn
 * log) any frame that does not fit: unknown `type`, a missing required field, a wrong field type,
 * a non-UUID `invocation_id`, an `error` that is not an ErrorBody. Unknown fields are ignored and
 * `null` in an optional field means "absent". This decoder reproduces those rules without zod,
 * because it runs on every frame, and normalises frames in place (no copies on the hot path).
 */

export interface ErrorBody {
  code: string;
  message: string;
  stacktrace?: string;
}

export type InvokeAction = { type: 'enqueue'; queue: string } | { type: 'void' };

export interface RegisterFunctionFrame {
  type: 'registerfunction';
  id: string;
  description?: string;
  request_format?: unknown;
  response_format?: unknown;
  metadata?: unknown;
  invocation?: { url: string; [key: string]: unknown };
}
export interface UnregisterFunctionFrame {
  type: 'unregisterfunction';
  id: string;
}
export interface RegisterTriggerTypeFrame {
  type: 'registertriggertype';
  id: string;
  description: string;
  trigger_request_format?: unknown;
  call_request_format?: unknown;
}
export interface RegisterTriggerFrame {
  type: 'registertrigger';
  id: string;
  trigger_type: string;
  function_id: string;
  config: unknown;
  metadata?: unknown;
}
export interface UnregisterTriggerFrame {
  type: 'unregistertrigger';
  id: string;
  trigger_type?: string;
}
export interface TriggerRegistrationResultFrame {
  type: 'triggerregistrationresult';
  id: string;
  trigger_type: string;
  function_id: string;
  error?: ErrorBody;
}
export interface InvokeFunctionFrame {
  type: 'invokefunction';
  invocation_id?: string;
  function_id: string;
  data: unknown;
  traceparent?: string;
  baggage?: string;
  action?: InvokeAction;
  metadata?: unknown;
}
export interface InvocationResultFrame {
  type: 'invocationresult';
  invocation_id: string;
  function_id: string;
  result?: unknown;
  error?: ErrorBody;
  traceparent?: string;
  baggage?: string;
}
export interface RegisterServiceFrame {
  type: 'registerservice';
  id: string;
  name: string;
  description?: string;
  parent_service_id?: string;
}
export interface PingFrame {
  type: 'ping';
}
export interface PongFrame {
  type: 'pong';
}
export interface ReattachFrame {
  type: 'reattach';
  previous_worker_id: string;
  reattach_token?: string;
}
export interface WorkerRegisteredFrame {
  type: 'workerregistered';
  worker_id: string;
  reattach_token?: string;
}

export type InboundFrame =
  | RegisterFunctionFrame
  | UnregisterFunctionFrame
  | RegisterTriggerTypeFrame
  | RegisterTriggerFrame
  | UnregisterTriggerFrame
  | TriggerRegistrationResultFrame
  | InvokeFunctionFrame
  | InvocationResultFrame
  | RegisterServiceFrame
  | PingFrame
  | PongFrame
  | ReattachFrame
  | WorkerRegisteredFrame;

/** Why a frame was dropped (for the warn log). */
export class FrameError {
  constructor(readonly reason: string) {}
}

type Obj = Record<string, unknown>;

const HYPHENATED_UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const SIMPLE_UUID = /^[0-9a-fA-F]{32}$/;

/**
 * Parse a UUID the way the `uuid` crate does (hyphenated, simple, `{braced}` or `urn:uuid:`) and
 * return it in the hyphenated lowercase form the engine serializes back; `undefined` if invalid.
 */
export function normalizeUuid(value: string): string | undefined {
  if (value.length === 36 && HYPHENATED_UUID.test(value)) return isLower(value) ? value : value.toLowerCase();
  let inner = value;
  if (inner.startsWith('urn:uuid:')) inner = inner.slice(9);
  else if (inner.startsWith('{') && inner.endsWith('}')) inner = inner.slice(1, -1);
  if (HYPHENATED_UUID.test(inner)) return inner.toLowerCase();
  if (SIMPLE_UUID.test(inner)) {
    const h = inner.toLowerCase();
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  return undefined;
}

function isLower(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 65 && c <= 90) return false;
  }
  return true;
}

/** serde `String`: present and a string. */
function requireString(frame: Obj, key: string): string | FrameError {
  const v = frame[key];
  if (typeof v === 'string') return v;
  return new FrameError(
    v === undefined ? `missing field \`${key}\`` : `invalid type for \`${key}\`, expected a string`,
  );
}

/** serde `Option<String>`: absent or null -> removed; otherwise must be a string. */
function optionalString(frame: Obj, key: string): FrameError | undefined {
  const v = frame[key];
  if (v === undefined) return undefined;
  if (v === null) {
    delete frame[key];
    return undefined;
  }
  return typeof v === 'string' ? undefined : new FrameError(`invalid type for \`${key}\`, expected a string`);
}

/** serde `Option<Value>`: null means absent. */
function optionalValue(frame: Obj, key: string): void {
  if (frame[key] === null) delete frame[key];
}

/** serde `Value` (required): the key must be present, any JSON (null included) is fine. */
function requireValue(frame: Obj, key: string): FrameError | undefined {
  return key in frame ? undefined : new FrameError(`missing field \`${key}\``);
}

function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `Option<ErrorBody>`; a non-ErrorBody value makes the whole frame undecodable. */
function optionalErrorBody(frame: Obj): FrameError | undefined {
  const e = frame.error;
  if (e === undefined) return undefined;
  if (e === null) {
    delete frame.error;
    return undefined;
  }
  if (!isPlainObject(e) || typeof e.code !== 'string' || typeof e.message !== 'string')
    return new FrameError('`error` is not an ErrorBody {code, message, stacktrace?}');
  if (e.stacktrace === null) delete e.stacktrace;
  else if (e.stacktrace !== undefined && typeof e.stacktrace !== 'string')
    return new FrameError('`error.stacktrace` must be a string');
  return undefined;
}

function first(...checks: Array<FrameError | undefined | string>): FrameError | undefined {
  for (const c of checks) if (c instanceof FrameError) return c;
  return undefined;
}

function decodeInvoke(f: Obj): FrameError | undefined {
  const fid = requireString(f, 'function_id');
  if (fid instanceof FrameError) return fid;
  if (!('data' in f)) return new FrameError('missing field `data`');
  const id = f.invocation_id;
  if (id === null) delete f.invocation_id;
  else if (id !== undefined) {
    if (typeof id !== 'string') return new FrameError('invalid type for `invocation_id`, expected a UUID string');
    const norm = normalizeUuid(id);
    if (norm === undefined)
      return new FrameError(`invalid UUID in \`invocation_id\`: ${JSON.stringify(id).slice(0, 60)}`);
    if (norm !== id) f.invocation_id = norm;
  }
  const bad = first(optionalString(f, 'traceparent'), optionalString(f, 'baggage'));
  if (bad) return bad;
  optionalValue(f, 'metadata');
  const action = f.action;
  if (action === null) delete f.action;
  else if (action !== undefined) {
    if (!isPlainObject(action)) return new FrameError('`action` must be an object');
    if (action.type === 'void') f.action = { type: 'void' };
    else if (action.type === 'enqueue') {
      if (typeof action.queue !== 'string') return new FrameError('`action.queue` must be a string');
      f.action = { type: 'enqueue', queue: action.queue };
    } else return new FrameError(`unknown action type ${JSON.stringify(action.type)}`);
  }
  return undefined;
}

function decodeResult(f: Obj): FrameError | undefined {
  const id = f.invocation_id;
  if (typeof id !== 'string')
    return new FrameError(
      id === undefined || id === null
        ? 'missing field `invocation_id`'
        : 'invalid type for `invocation_id`, expected a UUID string',
    );
  const norm = normalizeUuid(id);
  if (norm === undefined)
    return new FrameError(`invalid UUID in \`invocation_id\`: ${JSON.stringify(id).slice(0, 60)}`);
  if (norm !== id) f.invocation_id = norm;
  const bad = first(
    requireString(f, 'function_id'),
    optionalErrorBody(f),
    optionalString(f, 'traceparent'),
    optionalString(f, 'baggage'),
  );
  if (bad) return bad;
  optionalValue(f, 'result');
  return undefined;
}

function decodeRegisterFunction(f: Obj): FrameError | undefined {
  const bad = first(requireString(f, 'id'), optionalString(f, 'description'));
  if (bad) return bad;
  optionalValue(f, 'request_format');
  optionalValue(f, 'response_format');
  optionalValue(f, 'metadata');
  const inv = f.invocation;
  if (inv === null) delete f.invocation;
  else if (inv !== undefined && (!isPlainObject(inv) || typeof inv.url !== 'string'))
    return new FrameError('`invocation` must be {url, method?, timeout_ms?, headers?, auth?}');
  return undefined;
}

function decodeRegisterTrigger(f: Obj): FrameError | undefined {
  const bad = first(
    requireString(f, 'id'),
    requireString(f, 'trigger_type'),
    requireString(f, 'function_id'),
    requireValue(f, 'config'),
  );
  if (bad) return bad;
  optionalValue(f, 'metadata');
  return undefined;
}

function decodeFields(f: Obj): FrameError | undefined {
  switch (f.type) {
    case 'invokefunction':
      return decodeInvoke(f);
    case 'invocationresult':
      return decodeResult(f);
    case 'registerfunction':
      return decodeRegisterFunction(f);
    case 'unregisterfunction':
      return first(requireString(f, 'id'));
    case 'registertriggertype': {
      const bad = first(requireString(f, 'id'), requireString(f, 'description'));
      optionalValue(f, 'trigger_request_format');
      optionalValue(f, 'call_request_format');
      return bad;
    }
    case 'registertrigger':
      return decodeRegisterTrigger(f);
    case 'unregistertrigger':
      return first(requireString(f, 'id'), optionalString(f, 'trigger_type'));
    case 'triggerregistrationresult':
      return first(
        requireString(f, 'id'),
        requireString(f, 'trigger_type'),
        requireString(f, 'function_id'),
        optionalErrorBody(f),
      );
    case 'registerservice': {
      if (f.name === undefined || f.name === null) f.name = '';
      return first(
        requireString(f, 'id'),
        requireString(f, 'name'),
        optionalString(f, 'description'),
        optionalString(f, 'parent_service_id'),
      );
    }
    case 'ping':
    case 'pong':
      return undefined;
    case 'reattach':
      return first(requireString(f, 'previous_worker_id'), optionalString(f, 'reattach_token'));
    case 'workerregistered':
      return first(requireString(f, 'worker_id'), optionalString(f, 'reattach_token'));
    default:
      return new FrameError(
        typeof f.type === 'string'
          ? `unknown message type "${f.type.slice(0, 60)}"`
          : 'missing or non-string `type` tag',
      );
  }
}

/** Decode one text frame; returns the frame (normalised in place) or the reason it is dropped. */
export function decodeFrame(text: string): InboundFrame | FrameError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return new FrameError(`invalid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) return new FrameError('frame is not a JSON object');
  const bad = decodeFields(parsed);
  return bad ?? (parsed as unknown as InboundFrame);
}
