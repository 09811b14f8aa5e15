import type { Bus } from '@iii-harness/runtime';
import { errorEnvelope, jsonObject, modelPricing, resultContentBlock, turnOutcome, turnState, usage, type TurnState } from '@iii-harness/types';
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

export const nativeTool = z.object({ name: z.string(), function_id: z.string(), description: z.string(), parameters: jsonObject });
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
  stream_request_id: z.string().optional(),
  batch: z.object({ assistant_entry_id: z.string(), calls: z.array(batchCall) }).optional(),
  usage: usage,
  cost_usd: z.number().nonnegative().optional(),
  started_at: z.number().int(),
  updated_at: z.number().int(),
  outcome: turnOutcome.optional(),
  reason: z.string().optional(),
  error: errorEnvelope.optional(),
});
export type TurnRecord = z.infer<typeof turnRecord>;

export const WORKING_STATES: readonly TurnState[] = ['provisioning', 'assistant_streaming', 'function_execute', 'steering_check'];
export const isWorking = (state: TurnState) => WORKING_STATES.includes(state);

const SCOPE = 'turn_state';
const ABORT_SCOPE = 'turn_abort';

/**
 * Turn records and abort flags in engine state. The abort flag has its own key so that
 * `run::abort` never races a step that is about to rewrite the record.
 */
export class TurnStore {
  constructor(private readonly bus: Bus) {}

  get(sessionId: string): Promise<TurnRecord | undefined> {
    return this.bus.state.get(SCOPE, sessionId, turnRecord);
  }

  async save(record: TurnRecord): Promise<void> {
    record.updated_at = Date.now();
    await this.bus.state.set(SCOPE, record.session_id, record);
  }

  list(): Promise<TurnRecord[]> {
    return this.bus.state.list(SCOPE, turnRecord);
  }

  async requestAbort(sessionId: string, turnId: string): Promise<void> {
    await this.bus.state.set(ABORT_SCOPE, sessionId, { turn_id: turnId, requested_at: Date.now() });
  }

  async abortRequested(record: TurnRecord): Promise<boolean> {
    const flag = await this.bus.state.get<{ turn_id: string }>(ABORT_SCOPE, record.session_id);
    return flag?.turn_id === record.turn_id;
  }

  async clearAbort(sessionId: string): Promise<void> {
    await this.bus.state.delete(ABORT_SCOPE, sessionId);
  }
}
