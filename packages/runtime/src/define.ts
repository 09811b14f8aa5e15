import type { Contract } from '@iii-harness/types';
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

/** The worker's half of a contract: gets the validated input, returns what the output schema accepts. */
export type Handler<C extends Contract> = (
  input: z.output<C['input']>,
  ctx: HandlerContext,
) => Promise<z.input<C['output']>> | z.input<C['output']>;

/** A contract with the handler that serves it: what `Worker.function` registers. */
export interface FunctionDef<C extends Contract = Contract> {
  contract: C;
  handler: Handler<C>;
}
