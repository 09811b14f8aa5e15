/**
 * `UpdateOp[]` semantics shared by `state::update` and `stream::update`, as engine v0.22.1
 * applies them:
 * - `path` of set / increment / decrement / remove is ONE top-level key (`"a.b"` is a literal
 *   key; `""` is the root). Only merge and append take nested paths, as `string[]`.
 * - A missing value starts as `{}`; increment on a missing key creates `by`, decrement `-by`.
 * - A failing op is skipped and reported in `errors[]`; the other ops still apply.
 */
import { deserializationError } from './input.js';

export type UpdateOp =
  | { type: 'set'; path: string; value?: unknown }
  | { type: 'merge'; path?: string | string[]; value: unknown }
  | { type: 'increment' | 'decrement'; path: string; by: number }
  | { type: 'append'; path?: string | string[]; value: unknown }
  | { type: 'remove'; path: string };

export interface UpdateOpError {
  op_index: number;
  code: string;
  message: string;
  doc_url?: string;
}

const MAX_PATH_DEPTH = 32;
const MAX_SEGMENT_BYTES = 256;
const MAX_VALUE_DEPTH = 16;
const MAX_VALUE_KEYS = 1024;
const PROTO_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const DOC_URL = 'https://iii.dev/docs/workers/iii-state#error-codes';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v; // 'string' | 'number' | 'boolean'
}

/** Validate the `ops` array like serde would (an invalid op fails the whole call). */
export function parseOps(functionId: string, raw: unknown): UpdateOp[] {
  if (raw === undefined) throw deserializationError(functionId, 'missing field `ops`');
  if (!Array.isArray(raw))
    throw deserializationError(functionId, `invalid type: ${typeName(raw)}, expected a sequence`);
  return raw.map((op, i) => parseOp(functionId, op, i));
}

function parseOp(functionId: string, op: unknown, index: number): UpdateOp {
  const fail = (detail: string) => deserializationError(functionId, `ops[${index}]: ${detail}`);
  if (!isObject(op)) throw fail('expected an update op object');
  const path = op.path;
  const singlePath = () => {
    if (typeof path !== 'string') throw fail(path === undefined ? 'missing field `path`' : '`path` must be a string');
    return path;
  };
  const mergePath = () => {
    if (path === undefined || path === null) return undefined;
    if (typeof path === 'string') return path;
    if (Array.isArray(path) && path.every((s) => typeof s === 'string')) return path as string[];
    throw fail('`path` must be a string or an array of strings');
  };
  switch (op.type) {
    case 'set':
      return { type: 'set', path: singlePath(), value: op.value === undefined ? null : op.value };
    case 'merge':
      if (!('value' in op)) throw fail('missing field `value`');
      return { type: 'merge', path: mergePath(), value: op.value };
    case 'increment':
    case 'decrement': {
      const by = op.by;
      if (typeof by !== 'number' || !Number.isInteger(by))
        throw fail(by === undefined ? 'missing field `by`' : '`by` must be an integer (i64)');
      return { type: op.type, path: singlePath(), by };
    }
    case 'append':
      if (!('value' in op)) throw fail('missing field `value`');
      return { type: 'append', path: mergePath(), value: op.value };
    case 'remove':
      return { type: 'remove', path: singlePath() };
    default:
      throw fail(
        `unknown variant ${JSON.stringify(op.type)}, expected one of \`set\`, \`merge\`, \`increment\`, \`decrement\`, \`append\`, \`remove\``,
      );
  }
}

function segmentsOf(path: string | string[] | undefined): string[] {
  if (path === undefined) return [];
  if (typeof path === 'string') return path === '' ? [] : [path];
  return path;
}

function validatePath(opName: string, index: number, segments: string[], errors: UpdateOpError[]): boolean {
  const fail = (reason: string, message: string) => {
    errors.push({ op_index: index, code: `${opName}.path.${reason}`, message, doc_url: DOC_URL });
    return false;
  };
  if (segments.length > MAX_PATH_DEPTH)
    return fail('too_deep', `Path depth ${segments.length} exceeds maximum of ${MAX_PATH_DEPTH}`);
  for (const seg of segments) {
    if (seg === '') return fail('empty_segment', 'Path contains an empty segment');
    const bytes = Buffer.byteLength(seg);
    if (bytes > MAX_SEGMENT_BYTES)
      return fail('segment_too_long', `Path segment of ${bytes} bytes exceeds maximum of ${MAX_SEGMENT_BYTES}`);
    if (PROTO_KEYS.has(seg))
      return fail('proto_polluted', `Path segment '${seg}' is not allowed (prototype pollution).`);
  }
  return true;
}

function depth(v: unknown): number {
  if (Array.isArray(v)) return 1 + v.reduce<number>((m, x) => Math.max(m, depth(x)), 0);
  if (isObject(v)) return 1 + Object.values(v).reduce<number>((m, x) => Math.max(m, depth(x)), 0);
  return 0;
}

function validateMergeValue(index: number, value: unknown, errors: UpdateOpError[]): value is Json {
  const fail = (code: string, message: string) => {
    errors.push({ op_index: index, code, message, doc_url: DOC_URL });
    return false;
  };
  if (!isObject(value)) return fail('merge.value.not_an_object', 'Merge value must be a JSON object');
  const keys = Object.keys(value);
  if (keys.length > MAX_VALUE_KEYS)
    return fail(
      'merge.value.too_many_keys',
      `Merge value has ${keys.length} top-level keys, exceeds maximum of ${MAX_VALUE_KEYS}`,
    );
  for (const k of keys)
    if (PROTO_KEYS.has(k))
      return fail(
        'merge.value.proto_polluted',
        `Merge value top-level key ${JSON.stringify(k)} is a prototype-pollution sink`,
      );
  const d = depth(value);
  if (d > MAX_VALUE_DEPTH)
    return fail('merge.value.too_deep', `Merge value JSON nesting depth ${d} exceeds maximum of ${MAX_VALUE_DEPTH}`);
  return true;
}

/** Walk (creating or replacing non-object intermediates) down to the object at `segments`. */
function walkOrCreate(root: Json, segments: string[]): Json {
  let node = root;
  for (const seg of segments) {
    let next = Object.hasOwn(node, seg) ? node[seg] : undefined;
    if (!isObject(next)) {
      next = {};
      setKey(node, seg, next);
    }
    node = next as Json;
  }
  return node;
}

/** Own-property write that is safe for any key (validated paths never contain proto keys anyway). */
function setKey(obj: Json, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}

function addInteger(current: unknown, by: number): unknown {
  return typeof current === 'number' ? current + by : undefined;
}

function initialAppend(value: unknown): unknown {
  return typeof value === 'string' ? value : [value];
}

/** Append `value` onto `target`; returns the new target, or undefined (+ error) on a type mismatch. */
function appendTo(
  target: unknown,
  value: unknown,
  label: string,
  index: number,
  errors: UpdateOpError[],
): { ok: boolean; value: unknown } {
  if (Array.isArray(target)) {
    target.push(value);
    return { ok: true, value: target };
  }
  if (typeof target === 'string') {
    if (typeof value === 'string') return { ok: true, value: target + value };
    errors.push({
      op_index: index,
      code: 'append.type_mismatch',
      message: `Expected string append value at path '${label}', got ${typeName(value)}.`,
      doc_url: DOC_URL,
    });
    return { ok: false, value: target };
  }
  if (target === null) return { ok: true, value: initialAppend(value) };
  errors.push({
    op_index: index,
    code: 'append.type_mismatch',
    message: `Cannot append at path '${label}': target is ${typeName(target)}, expected array, string, null, or missing field.`,
    doc_url: DOC_URL,
  });
  return { ok: false, value: target };
}

/**
 * Apply `ops` to a deep copy of `old` (undefined = missing); returns the new value and per-op
 * errors. `copyOfOld` makes that copy when the caller has a cheaper way than structuredClone.
 */
export function applyUpdateOps(
  old: unknown,
  ops: UpdateOp[],
  copyOfOld: () => unknown = () => structuredClone(old),
): { value: unknown; errors: UpdateOpError[] } {
  let missingDefault = old === undefined;
  let current: unknown = old === undefined ? {} : copyOfOld();
  const errors: UpdateOpError[] = [];
  const label = (p: string) => (p === '' ? 'root' : p);
  const notObject = (op: string, index: number, path: string) =>
    errors.push({
      op_index: index,
      code: `${op}.target_not_object`,
      message: `Cannot ${op} at path '${label(path)}': target is ${typeName(current)}, expected object.`,
      doc_url: DOC_URL,
    });

  ops.forEach((op, i) => {
    switch (op.type) {
      case 'set': {
        if (!validatePath('set', i, segmentsOf(op.path), errors)) return;
        if (op.path === '') current = op.value ?? null;
        else if (isObject(current)) setKey(current, op.path, op.value ?? null);
        else {
          notObject('set', i, op.path);
          return;
        }
        missingDefault = false;
        return;
      }
      case 'merge': {
        const segments = segmentsOf(op.path);
        if (!validatePath('merge', i, segments, errors) || !validateMergeValue(i, op.value, errors)) return;
        const value = op.value;
        if (segments.length === 0) {
          // A root merge onto a non-object is skipped silently (the engine only logs a warning).
          if (!isObject(current)) return;
          for (const [k, v] of Object.entries(value)) setKey(current, k, structuredClone(v));
        } else {
          if (!isObject(current)) current = {};
          const target = walkOrCreate(current as Json, segments);
          for (const [k, v] of Object.entries(value)) setKey(target, k, structuredClone(v));
        }
        missingDefault = false;
        return;
      }
      case 'increment':
      case 'decrement': {
        if (!validatePath(op.type, i, segmentsOf(op.path), errors)) return;
        const by = op.type === 'increment' ? op.by : -op.by;
        const notNumber = (got: unknown) =>
          errors.push({
            op_index: i,
            code: `${op.type}.not_number`,
            message: `Expected number at path '${label(op.path)}', got ${typeName(got)}.`,
            doc_url: DOC_URL,
          });
        if (op.path === '') {
          if (missingDefault) current = by;
          else {
            const next = addInteger(current, by);
            if (next === undefined) {
              notNumber(current);
              return;
            }
            current = next;
          }
        } else if (isObject(current)) {
          if (Object.hasOwn(current, op.path)) {
            const next = addInteger(current[op.path], by);
            if (next === undefined) {
              notNumber(current[op.path]);
              return;
            }
            current[op.path] = next;
          } else setKey(current, op.path, by);
        } else {
          notObject(op.type, i, op.path);
          return;
        }
        missingDefault = false;
        return;
      }
      case 'append': {
        const segments = segmentsOf(op.path);
        if (!validatePath('append', i, segments, errors)) return;
        if (segments.length === 0) {
          if (missingDefault) current = null;
          const r = appendTo(current, structuredClone(op.value), 'root', i, errors);
          current = r.value;
          if (r.ok) missingDefault = false;
          return;
        }
        if (!isObject(current)) {
          errors.push({
            op_index: i,
            code: 'append.target_not_object',
            message: `Cannot append at path '[${segments.join(', ')}]': target is ${typeName(current)}, expected object.`,
            doc_url: DOC_URL,
          });
          return;
        }
        const leaf = segments[segments.length - 1]!;
        const parent = segments.length === 1 ? current : walkOrCreate(current, segments.slice(0, -1));
        if (Object.hasOwn(parent, leaf))
          parent[leaf] = appendTo(parent[leaf], structuredClone(op.value), leaf, i, errors).value;
        // A missing single-key leaf follows the root rule (string stays a string); a nested one is always an array.
        else
          setKey(
            parent,
            leaf,
            segments.length === 1 ? initialAppend(structuredClone(op.value)) : [structuredClone(op.value)],
          );
        missingDefault = false;
        return;
      }
      case 'remove': {
        if (!validatePath('remove', i, segmentsOf(op.path), errors)) return;
        if (op.path === '') current = null;
        else if (isObject(current)) delete current[op.path];
        else {
          notObject('remove', i, op.path);
          return;
        }
        missingDefault = false;
        return;
      }
    }
  });
  return { value: current, errors };
}
