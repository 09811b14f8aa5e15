import type { Contract } from '@iii-harness/types';
import { context } from '@opentelemetry/api';
import { z } from 'zod';
import type { Bus } from './bus.js';
import { contextWithTurn, currentTurnContext, turnFromPayload } from './context.js';
import type { Handler, HandlerContext } from './define.js';
import { formatZodIssues, HarnessError, isHarnessError, toWireError } from './errors.js';
import { type Logger, lazyChild } from './logger.js';
import { functionSpanAttributes, withSpan } from './tracing.js';

/** The engine adds the caller's worker id to object payloads; it is not part of any schema. */
const CALLER_KEY = '_caller_worker_id';

export interface HandlerDeps {
  bus: Bus;
  logger: Logger;
}

/** Input and output JSON Schemas for `request_format` / `response_format`. */
export function jsonSchemasOf(def: Contract): {
  request_format: Record<string, unknown>;
  response_format: Record<string, unknown>;
} {
  return {
    request_format: z.toJSONSchema(def.input, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
    response_format: z.toJSONSchema(def.output, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>,
  };
}

function splitCaller(data: unknown): { payload: unknown; caller?: string } {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || !(CALLER_KEY in data))
    return { payload: data };
  const { [CALLER_KEY]: caller, ...payload } = data as Record<string, unknown>;
  return { payload, caller: typeof caller === 'string' ? caller : undefined };
}

/**
 * Wrap a declared function as an iii-sdk handler: validate input (the handler never sees bad
 * input), run it in a span with the turn's baggage, validate output, and turn every failure into
 * a HarnessError on the wire. Unknown errors leave as `internal` with a reference, never with
 * their message or stack (those go to the log, redacted).
 */
export function createHandler<C extends Contract>(
  def: C,
  handler: Handler<C>,
  deps: HandlerDeps,
): (data: unknown, metadata?: unknown) => Promise<unknown> {
  return async (data, metadata) => {
    const { payload, caller } = splitCaller(data);
    const turn = { ...currentTurnContext(), ...turnFromPayload(payload) };
    const logger = lazyChild(deps.logger, () => ({ function_id: def.id, ...turn }));
    const ctx: HandlerContext = {
      function_id: def.id,
      bus: deps.bus,
      metadata,
      caller_worker_id: caller,
      ...turn,
      logger,
    };
    const attributes = functionSpanAttributes(def.id, turn);
    try {
      return await context.with(contextWithTurn(turn), () =>
        withSpan(def.id, attributes, () => runValidated(def, handler, payload, ctx)),
      );
    } catch (error) {
      throw toWireError(classify(error, logger));
    }
  };
}

async function runValidated<C extends Contract>(
  def: C,
  handler: Handler<C>,
  payload: unknown,
  ctx: HandlerContext,
): Promise<unknown> {
  const input = def.input.safeParse(payload);
  if (!input.success)
    throw new HarnessError('invalid_payload', `invalid input for ${def.id}: ${formatZodIssues(input.error)}`);
  const result = await handler(input.data as z.output<C['input']>, ctx);
  const output = def.output.safeParse(result);
  if (!output.success) {
    ctx.logger.error(
      { issues: output.error.issues },
      'handler returned a result that does not match its output schema',
    );
    throw new HarnessError('internal', `${def.id} produced an invalid result`);
  }
  return output.data;
}

function classify(error: unknown, logger: Logger): HarnessError {
  if (isHarnessError(error)) {
    if (error.code === 'internal') logger.error({ err: error }, 'internal error');
    return error;
  }
  if (error instanceof z.ZodError) return new HarnessError('invalid_payload', formatZodIssues(error));
  const ref = Math.random().toString(36).slice(2, 10);
  logger.error({ err: error, ref }, 'unhandled error in handler');
  return new HarnessError('internal', `internal error (ref ${ref})`);
}
