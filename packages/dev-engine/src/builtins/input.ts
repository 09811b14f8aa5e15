/**
 * Input checks for builtin functions. The real engine deserializes each builtin's input with
 * serde and fails with `deserialization_error` "Failed to deserialize input for <id>: <serde
 * message>"; these helpers produce the same code and a message of the same form.
 */
import { EngineError } from '../engine-api.js';
import { isPlainObject } from '../errors.js';

export type Input = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a sequence';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value)}`;
    case 'number':
      return Number.isInteger(value) ? `integer \`${value}\`` : `floating point \`${value}\``;
    case 'boolean':
      return `boolean \`${value}\``;
    case 'object':
      return 'a map';
    default:
      return typeof value;
  }
}

export function deserializationError(functionId: string, detail: string): EngineError {
  return new EngineError('deserialization_error', `Failed to deserialize input for ${functionId}: ${detail}`);
}

/** The input must be a JSON object (serde struct). */
export function objectInput(functionId: string, data: unknown): Input {
  if (isPlainObject(data)) return data;
  throw deserializationError(functionId, `invalid type: ${describe(data)}, expected a struct`);
}

export function requiredString(functionId: string, input: Input, key: string): string {
  const v = input[key];
  if (typeof v === 'string') return v;
  if (v === undefined) throw deserializationError(functionId, `missing field \`${key}\``);
  throw deserializationError(functionId, `invalid type: ${describe(v)}, expected a string`);
}

export function optionalString(functionId: string, input: Input, key: string): string | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  throw deserializationError(functionId, `invalid type: ${describe(v)}, expected a string`);
}

export function optionalBoolean(functionId: string, input: Input, key: string): boolean | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  throw deserializationError(functionId, `invalid type: ${describe(v)}, expected a boolean`);
}

export function optionalInteger(functionId: string, input: Input, key: string): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw deserializationError(functionId, `invalid type: ${describe(v)}, expected an integer`);
}

export function optionalStringArray(functionId: string, input: Input, key: string): string[] | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  throw deserializationError(functionId, `invalid type: ${describe(v)}, expected a sequence of strings`);
}

/** serde `Value` field: must be present (null allowed). */
export function requiredValue(functionId: string, input: Input, key: string, alias?: string): unknown {
  if (key in input) return input[key];
  if (alias && alias in input) return input[alias];
  throw deserializationError(functionId, `missing field \`${key}\``);
}
