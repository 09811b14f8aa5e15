import { EngineError } from './engine-api.js';
import type { ErrorBody } from './protocol/frames.js';

/** The wire shape of any error thrown inside the engine. */
export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof EngineError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: 'invocation_error', message: error.message };
  return { code: 'invocation_error', message: String(error) };
}

export function toEngineError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  const body = toErrorBody(error);
  return new EngineError(body.code, body.message);
}

export function functionNotFound(functionId: string): EngineError {
  return new EngineError('function_not_found', `Function ${functionId} not found`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
