import type { z } from 'zod';

/**
 * One bus function, as both sides know it: its id, a one-line description, and the zod schemas of
 * its input and output. The worker that serves it registers from the contract (the handler is its
 * own); every caller calls through it, and the reply is checked against `output`. A newcomer jumps
 * from any `bus.call(contracts.x.y, ...)` to the contract, and from there to the one worker whose
 * `register.ts` serves it.
 */
export interface Contract<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly id: string;
  readonly description: string;
  readonly input: I;
  readonly output: O;
  /** Registration metadata, e.g. `{ internal: true }` hides it from `engine::functions::list`. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** What a caller sends (before the schema's defaults and transforms). */
export type ContractInput<C extends Contract> = z.input<C['input']>;
/** What a caller gets back, validated. */
export type ContractOutput<C extends Contract> = z.output<C['output']>;

/** Declare a contract (identity at run time, frozen so no caller can change another's view). */
export function contract<I extends z.ZodType, O extends z.ZodType>(spec: Contract<I, O>): Contract<I, O> {
  return Object.freeze({ ...spec });
}

/**
 * A family of functions with the same shape under ids that carry a parameter, such as
 * `provider::<id>::stream`: one contract per value, built once and reused.
 */
export function contractFamily<I extends z.ZodType, O extends z.ZodType>(
  idOf: (param: string) => string,
  spec: Omit<Contract<I, O>, 'id'>,
): (param: string) => Contract<I, O> {
  const built = new Map<string, Contract<I, O>>();
  return (param) => {
    let found = built.get(param);
    if (!found) {
      found = contract({ ...spec, id: idOf(param) });
      built.set(param, found);
    }
    return found;
  };
}
