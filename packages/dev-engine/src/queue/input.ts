/** Small input readers for the queue functions (hand-rolled: these sit on the enqueue hot path). */
import { EngineError } from '../engine-api.js';

/** The error iii's builtins give for a malformed payload (serde's wording). */
export function badInput(functionId: string, detail: string, code = 'deserialization_error'): EngineError {
  return new EngineError(code, `Failed to deserialize input for ${functionId}: ${detail}`);
}

export function asObject(input: unknown, functionId: string, code?: string): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw badInput(functionId, 'expected an object', code);
  }
  return input as Record<string, unknown>;
}

export function requireString(input: Record<string, unknown>, key: string, functionId: string, code?: string): string {
  const value = input[key];
  if (value === undefined || value === null) throw badInput(functionId, `missing field \`${key}\``, code);
  if (typeof value !== 'string') throw badInput(functionId, `field \`${key}\` must be a string`, code);
  return value;
}

/** `queue` and `topic` are aliases on every queue/topic function (iii's serde alias). */
export function requireQueueName(input: Record<string, unknown>, functionId: string): string {
  const key = input.queue !== undefined && input.queue !== null ? 'queue' : 'topic';
  const name = requireString(input, key, functionId).trim();
  if (!name) throw new EngineError('invalid_arguments', `${functionId}: queue (or topic) must not be empty`);
  return name;
}

export function optionalCount(
  input: Record<string, unknown>,
  key: string,
  fallback: number,
  functionId: string,
): number {
  const value = input[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw badInput(functionId, `field \`${key}\` must be a non-negative integer`);
  }
  return value;
}
