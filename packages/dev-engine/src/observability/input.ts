/** serde-like input checks the observability functions need beyond builtins/input.ts. */
import { deserializationError, type Input } from '../builtins/input.js';

/** `Option<usize>` / `Option<u64>`: a non-negative integer. */
export function optionalCount(functionId: string, input: Input, key: string): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  throw deserializationError(functionId, `invalid value for \`${key}\`: expected a non-negative integer`);
}

/** `Option<f64>`. */
export function optionalNumber(functionId: string, input: Input, key: string): number | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw deserializationError(functionId, `invalid type for \`${key}\`: expected a number`);
}

/** `Option<Vec<Vec<String>>>`: attribute `[key, value]` pairs (other lengths are ignored, as in the engine). */
export function optionalPairs(functionId: string, input: Input, key: string): Array<[string, string]> | undefined {
  const v = input[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.every((x) => typeof x === 'string')))
    throw deserializationError(functionId, `invalid type for \`${key}\`: expected a sequence of [key, value] pairs`);
  return (v as string[][]).filter((p) => p.length === 2) as Array<[string, string]>;
}
