import type { Bus, UpdateOp } from '@iii-harness/runtime';
import {
  errorEnvelope,
  jsonObject,
  modelPricing,
  resultContentBlock,
  type TurnState,
  turnOutcome,
  turnState,
  usage,
} from '@iii-harness/types';
import { z } from 'zod';

/** Per-call checkpoints: `prepared → (held →) triggered → done`. A call found `triggered` after a crash is never re-run. */
export const callStatus = z.enum(['prepared', 'held', 'triggered', 'done']);

export const functionResult = z.object({ content: z.array(resultContentBlock), is_error: z.boolean() });
export type FunctionResult = z.infer<typeof functionResult>;

export const batchCall = z.object({
  function_call_id: z.string(),
  /** The tool name the model used. */
  tool: z.string(),
  /** The bus function it resolves to ('' when it resolves to none). */
  function_id: z.string(),
  args: jsonObject,
  status: callStatus,
  /** A person allowed it: run without consulting the policy again. */
  approved: z.boolean().optional(),
  result: functionResult.optional(),
  duration_ms: z.number().nonnegative().optional(),
});
export type BatchCall = z.infer<typeof batchCall>;

export const nativeTool = z.object({
  name: z.string(),
  function_id: z.string(),
  description: z.string(),
  parameters: jsonObject,
});
export type NativeTool = z.infer<typeof nativeTool>;

/** The durable turn: one record per session in scope `turn_state`, rewritten at every transition. */
export const turnRecord = z.object({
  session_id: z.string(),
  turn_id: z.string(),
  state: turnState,
  /** Bumped at every transition; a queued step carries the number it was enqueued for (stale-step guard). */
  step: z.number().int().nonnegative(),
  provider: z.string(),
  model: z.string(),
  system_prompt: z.string().optional(),
  max_turns: z.number().int().positive(),
  /** Function-id globs this run may call (absent: whatever the policy allows). */
  functions: z.array(z.string()).optional(),
  exposure: z.enum(['agent_trigger', 'native']),
  native_tools: z.array(nativeTool).optional(),
  context_window: z.number().int().positive().optional(),
  max_output_tokens: z.number().int().positive().optional(),
  pricing: modelPricing.optional(),
  /** Assistant generations so far. */
  turn_count: z.number().int().nonnegative(),
  /** Function results (or inbox messages) were appended since the last generation: ask the model again. */
  continue_pending: z.boolean().default(false),
  batch: z.object({ assistant_entry_id: z.string(), calls: z.array(batchCall) }).optional(),
  usage: usage,
  cost_usd: z.number().nonnegative().optional(),
  started_at: z.number().int(),
  updated_at: z.number().int(),
  outcome: turnOutcome.optional(),
  reason: z.string().optional(),
  error: errorEnvelope.optional(),
  /** Written only by run::abort, with its own update op: a step saving the record never overwrites it. */
  abort: z.object({ turn_id: z.string(), requested_at: z.number().int() }).optional(),
});
export type TurnRecord = z.infer<typeof turnRecord>;

/** The request id of the provider stream a record in `assistant_streaming` runs (run::abort derives it too). */
export const streamRequestId = (record: Pick<TurnRecord, 'turn_id' | 'step'>) => `${record.turn_id}:${record.step}`;

/** Whether a stored record carries an abort request for this turn (one of an earlier turn does not count). */
export const abortsTurn = (stored: Pick<TurnRecord, 'abort'> | undefined, turnId: string) =>
  stored?.abort?.turn_id === turnId;

export const WORKING_STATES: readonly TurnState[] = [
  'provisioning',
  'assistant_streaming',
  'function_execute',
  'steering_check',
];
export const isWorking = (state: TurnState) => WORKING_STATES.includes(state);

const SCOPE = 'turn_state';
/** Every field a step owns; `abort` is left out so that saving never clears a concurrent abort request. */
const STEP_FIELDS = Object.keys(turnRecord.shape).filter((key) => key !== 'abort') as Array<keyof TurnRecord>;

/**
 * Turn records in engine state. A step saves its fields with one `state::update` (set or remove per
 * field) rather than a whole-value `state::set`, so an abort request written meanwhile survives the
 * save, and the step reads record and abort flag in one round trip.
 */
export class TurnStore {
  constructor(private readonly bus: Bus) {}

  get(sessionId: string): Promise<TurnRecord | undefined> {
    return this.bus.state.get(SCOPE, sessionId, turnRecord);
  }

  /** A new turn: the whole value, dropping any abort request of the previous turn. */
  async create(record: TurnRecord): Promise<void> {
    await this.bus.state.set(SCOPE, record.session_id, record);
  }

  /** Persist a step's fields; answers whether an abort of this turn has been requested. */
  async save(record: TurnRecord): Promise<boolean> {
    record.updated_at = Date.now();
    const ops: UpdateOp[] = STEP_FIELDS.map((path) =>
      record[path] === undefined ? { type: 'remove', path } : { type: 'set', path, value: record[path] },
    );
    const { new_value } = await this.bus.state.update<Partial<TurnRecord>>(SCOPE, record.session_id, ops);
    return abortsTurn(new_value, record.turn_id);
  }

  list(): Promise<TurnRecord[]> {
    return this.bus.state.list(SCOPE, turnRecord);
  }

  async requestAbort(sessionId: string, turnId: string): Promise<void> {
    await this.bus.state.update(SCOPE, sessionId, [
      { type: 'set', path: 'abort', value: { turn_id: turnId, requested_at: Date.now() } },
    ]);
  }

  /** Read again whether this turn was asked to abort (long steps look between their round trips). */
  async abortRequested(record: TurnRecord): Promise<boolean> {
    return abortsTurn(await this.get(record.session_id), record.turn_id);
  }
}
