import { type Handler, HarnessError } from '@iii-harness/runtime';
import type { contracts, TurnView } from '@iii-harness/types';
import type { TurnRecord } from './record.js';
import type { Deps } from './turn.js';

export function viewOf(record: TurnRecord): TurnView {
  return {
    session_id: record.session_id,
    turn_id: record.turn_id,
    state: record.state,
    provider: record.provider,
    model: record.model,
    generations: record.generations,
    max_turns: record.max_turns,
    started_at: record.started_at,
    updated_at: record.updated_at,
    pending_approvals: (record.batch?.calls ?? [])
      .filter((call) => call.status === 'held')
      .map((call) => ({
        function_call_id: call.function_call_id,
        function_id: call.function_id,
        args: call.args,
        requested_at: record.updated_at,
      })),
    usage: record.usage,
    ...(record.cost_usd !== undefined ? { cost_usd: record.cost_usd } : {}),
    ...(record.outcome ? { outcome: record.outcome } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}

export const getState = (deps: Deps) =>
  (async ({ session_id }) => {
    const record = await deps.store.get(session_id);
    if (!record) throw new HarnessError('not_found', `session ${session_id} has no turn`);
    return viewOf(record);
  }) satisfies Handler<typeof contracts.turn.getState>;
