import { isHarnessError } from '@iii-harness/runtime';
import type { FunctionResult } from './record.js';

export const INTERRUPTED =
  'interrupted: this call was started but the turn was interrupted before its result was recorded; it ran at most once and its outcome is unknown. Check before repeating it.';

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}\n… [truncated: ${text.length - max} more characters]`;
}

/** A function's return value as the model will read it. */
export function toResult(value: unknown, maxChars: number): FunctionResult {
  const text = value === undefined ? '(no result)' : typeof value === 'string' ? value : JSON.stringify(value);
  return { content: [{ type: 'text', text: truncate(text, maxChars) }], is_error: false };
}

export function errorResult(text: string): FunctionResult {
  return { content: [{ type: 'text', text }], is_error: true };
}

/** A failed call, with the stable code so the model can tell "not found" from "denied". */
export function failureResult(error: unknown): FunctionResult {
  if (isHarnessError(error))
    return errorResult(`error ${error.code}${error.reason ? ` (${error.reason})` : ''}: ${error.message}`);
  return errorResult('error internal: the function failed');
}

export function denialResult(deniedBy: string, reason: string): FunctionResult {
  return errorResult(`denied (${deniedBy}): ${reason}`);
}
