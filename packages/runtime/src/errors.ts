import { type ErrorCode, type ErrorEnvelope, isErrorCode } from '@iii-harness/types';
import type { z } from 'zod';
import { maskSecrets } from './secrets.js';

/**
 * The one error type handlers throw and callers catch. It crosses the bus as `{code, message}`:
 * iii-sdk sends every thrown error as `invocation_failed`, so the stable code travels as the
 * message prefix `<code>[/<reason>]: ` and `Bus.call` turns it back into a HarnessError.
 */
export class HarnessError extends Error {
  readonly code: ErrorCode;
  readonly reason?: string;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { reason?: string; retryable?: boolean } = {}) {
    super(message);
    this.name = 'HarnessError';
    this.code = code;
    this.reason = options.reason;
    this.retryable = options.retryable ?? retryableByDefault(code);
  }

  toEnvelope(): ErrorEnvelope {
    return {
      code: this.code,
      message: this.message,
      ...(this.reason ? { reason: this.reason } : {}),
      retryable: this.retryable,
    };
  }
}

/** Whether a caller may retry, when the thrower did not say: only for time-outs and absences. */
const retryableByDefault = (code: ErrorCode) => code === 'timeout' || code === 'unavailable';

export const isHarnessError = (error: unknown): error is HarnessError => error instanceof HarnessError;

/** `<code>[/<reason>][+retryable|-retryable]: <message>`; the flag only when it differs from the code's default. */
const WIRE_PREFIX = /^([a-z_]+)(?:\/([a-z0-9_.:-]+?))?(?:([+-])retryable)?: ([\s\S]*)$/;

/**
 * The Error handed to iii-sdk: message carries the code; no stack, so no trace reaches the caller;
 * every secret this process knows is masked (a vendor's error text may echo the key it was sent).
 */
export function toWireError(error: HarnessError): Error {
  const flag = error.retryable === retryableByDefault(error.code) ? '' : error.retryable ? '+retryable' : '-retryable';
  const head = `${error.reason ? `${error.code}/${error.reason}` : error.code}${flag}`;
  const wire = new Error(maskSecrets(`${head}: ${error.message}`));
  Object.defineProperty(wire, 'stack', { value: undefined });
  return wire;
}

/** How engine-level codes (iii engine and iii-sdk) map onto ours. */
const engineCodes: Record<string, { code: ErrorCode; retryable?: boolean }> = {
  function_not_found: { code: 'not_found' },
  NOT_FOUND: { code: 'not_found' },
  TIMEOUT: { code: 'timeout' },
  invocation_stopped: { code: 'unavailable' },
  enqueue_error: { code: 'unavailable' },
  channel_send_failed: { code: 'unavailable' },
  FORBIDDEN: { code: 'denied' },
  deserialization_error: { code: 'invalid_payload' },
  INVALID_ARGUMENTS: { code: 'invalid_payload' },
};

/**
 * Turn whatever a `trigger()` rejected with into a HarnessError. `InvocationError.message` is
 * `"<wire code>: <wire message>"`; our own errors add one more `<code>: ` inside.
 */
export function fromInvocationError(error: unknown, functionId: string): HarnessError {
  if (isHarnessError(error)) return error;
  const wireCode =
    typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
  // Masked here too: the sender may not know a secret this process knows.
  const text = maskSecrets(error instanceof Error ? error.message : String(error));
  const body = wireCode && text.startsWith(`${wireCode}: `) ? text.slice(wireCode.length + 2) : text;
  if (wireCode === 'invocation_failed') {
    const match = WIRE_PREFIX.exec(body);
    if (match && isErrorCode(match[1])) {
      const retryable = match[3] === undefined ? undefined : match[3] === '+';
      return new HarnessError(match[1], match[4]!, { reason: match[2], retryable });
    }
    return new HarnessError('internal', `${functionId} failed: ${body}`, { reason: wireCode });
  }
  if (wireCode === undefined && text === 'iii is shutting down')
    return new HarnessError('unavailable', text, { reason: 'shutting_down' });
  const mapped = wireCode ? engineCodes[wireCode] : undefined;
  if (mapped) return new HarnessError(mapped.code, body, { reason: wireCode, retryable: mapped.retryable });
  return new HarnessError('internal', `${functionId} failed: ${body}`, { reason: wireCode });
}

/** zod issues as one line: `path: message; path: message`. */
export function formatZodIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
