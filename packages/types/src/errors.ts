import { z } from 'zod';

/**
 * Stable error codes (ARCHITECTURE §4). Every failure that crosses the bus carries one of these;
 * callers branch on `code` (and `reason` for a finer cause), never on message text.
 */
export const errorCodes = [
  'invalid_payload',
  'not_found',
  'conflict',
  'denied',
  'budget_exceeded',
  'provider_error',
  'timeout',
  'unavailable',
  'internal',
] as const;

export const errorCode = z.enum(errorCodes);
export type ErrorCode = z.infer<typeof errorCode>;

/** The error envelope. `message` is for people; it never holds secrets or stack traces. */
export const errorEnvelope = z.object({
  code: errorCode,
  message: z.string(),
  /** A finer, still stable cause, e.g. `session_busy` under `conflict`, `gate_unavailable` under `denied`. */
  reason: z.string().optional(),
  /** Whether trying the same call again may succeed (set by providers and transient failures). */
  retryable: z.boolean().optional(),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelope>;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (errorCodes as readonly string[]).includes(value);
}
