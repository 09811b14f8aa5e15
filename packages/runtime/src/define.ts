import type { z } from 'zod';
import type { Bus } from './bus.js';
import type { TurnContext } from './context.js';
import type { Logger } from './logger.js';

/** What a handler gets besides its validated input. */
export interface HandlerContext extends TurnContext {
  function_id: string;
  /** A child logger carrying function_id, session_id and turn_id. */
  logger: Logger;
  bus: Bus;
  /** Invocation metadata (trigger metadata for trigger fires). */
  metadata?: unknown;
  /** The calling worker's id, as the engine injected it (absent for queue and engine calls). */
  caller_worker_id?: string;
}

/**
 * A bus function, declared: id `namespace::name`, a one-line description, and zod schemas that
 * validate the input before the handler runs and document both sides in `engine::functions::info`.
 */
export interface FunctionDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  id: string;
  description: string;
  input: I;
  output: O;
  /** Extra registration metadata (e.g. `{ internal: true }` hides it from `engine::functions::list`). */
  metadata?: Record<string, unknown>;
  handler(input: z.output<I>, ctx: HandlerContext): Promise<z.input<O>> | z.input<O>;
}

/** Identity at run time; gives the handler its input and output types. */
export function defineFunction<I extends z.ZodType, O extends z.ZodType>(def: FunctionDef<I, O>): FunctionDef<I, O> {
  return def;
}
