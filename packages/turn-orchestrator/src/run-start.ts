import { defineFunction, HarnessError, uuidv7 } from '@iii-harness/runtime';
import { emptyUsage, isTerminalTurnState, sessionId } from '@iii-harness/types';
import { z } from 'zod';
import type { TurnRecord } from './record.js';
import { type Deps, enqueueStep } from './turn.js';

export const runStartInput = z
  .object({
    session_id: sessionId,
    provider: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/),
    model: z.string().min(1),
    system_prompt: z.string().max(200_000).optional(),
    max_turns: z.number().int().positive().max(1_000).optional(),
    /** Function-id globs this run may call; absent = whatever the policy allows. */
    functions: z.array(z.string().min(1)).max(500).optional(),
    exposure: z.enum(['agent_trigger', 'native']).optional(),
  })
  .strict();

/** One start at a time per session inside this process; the record check makes it a single turn. */
const starting = new Map<string, Promise<unknown>>();

export const runStart = (deps: Deps) =>
  defineFunction({
    id: 'run::start',
    description: 'Start a durable agent turn on a session (conflict/session_busy while another turn is live)',
    input: runStartInput,
    output: z.object({ turn_id: z.string(), started: z.literal(true) }),
    async handler(input) {
      const previous = starting.get(input.session_id) ?? Promise.resolve();
      const attempt = previous.catch(() => undefined).then(() => start(deps, input));
      starting.set(input.session_id, attempt);
      try {
        return await attempt;
      } finally {
        if (starting.get(input.session_id) === attempt) starting.delete(input.session_id);
      }
    },
  });

async function start(deps: Deps, input: z.infer<typeof runStartInput>): Promise<{ turn_id: string; started: true }> {
  const existing = await deps.store.get(input.session_id);
  if (existing && !isTerminalTurnState(existing.state)) {
    throw new HarnessError('conflict', `session ${input.session_id} already has a live turn (${existing.turn_id})`, {
      reason: 'session_busy',
    });
  }
  await deps.bus.call('session::ensure', { session_id: input.session_id });
  const now = Date.now();
  const record: TurnRecord = {
    session_id: input.session_id,
    turn_id: uuidv7(),
    state: 'provisioning',
    step: 0,
    provider: input.provider,
    model: input.model,
    ...(input.system_prompt ? { system_prompt: input.system_prompt } : {}),
    max_turns: input.max_turns ?? deps.config.default_max_turns,
    ...(input.functions ? { functions: input.functions } : {}),
    exposure: input.exposure ?? deps.config.default_exposure,
    turn_count: 0,
    continue_pending: false,
    usage: emptyUsage(),
    started_at: now,
    updated_at: now,
  };
  await deps.store.create(record);
  await deps.events.emit(record.session_id, record.turn_id, {
    type: 'turn_started',
    provider: record.provider,
    model: record.model,
  });
  await enqueueStep(deps.bus, record);
  return { turn_id: record.turn_id, started: true };
}
