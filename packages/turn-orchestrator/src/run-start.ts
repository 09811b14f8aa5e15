import { type Handler, HarnessError, KeyedSerializer, uuidv7 } from '@iii-harness/runtime';
import { contracts, emptyUsage, isTerminalTurnState, type RunStartInput, TURN_STEP_QUEUE } from '@iii-harness/types';
import { EventLog } from './events.js';
import type { TurnRecord } from './record.js';
import type { Deps } from './turn.js';

/** Events the creating write reserves: `turn_started`, and two spare for an early ending. */
const START_EVENTS = 3;

/**
 * Start a turn: one read (is a turn live?), one write that creates the record and reserves the
 * number of `turn_started`, the event, and the first step's job. The session itself is created
 * lazily, by the first read of its context.
 */
export const runStart = (deps: Deps) => {
  // One start at a time per session inside this process; the record check makes it a single turn.
  const starts = new KeyedSerializer();
  return (async (input) => starts.run(input.session_id, () => start(deps, input))) satisfies Handler<
    typeof contracts.run.start
  >;
};

async function start(deps: Deps, input: RunStartInput): Promise<{ turn_id: string; started: true }> {
  const previous = await deps.store.read(input.session_id);
  if (previous?.record && !isTerminalTurnState(previous.record.state)) {
    throw new HarnessError(
      'conflict',
      `session ${input.session_id} already has a live turn (${previous.record.turn_id})`,
      { reason: 'session_busy' },
    );
  }
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
    generations: 0,
    model_has_news: false,
    usage: emptyUsage(),
    started_at: now,
    updated_at: now,
  };
  const reserved = await deps.store.create(previous, record, START_EVENTS);
  const events = new EventLog(deps.bus, deps.store, record.session_id, record.turn_id, deps.logger);
  events.grant(reserved);
  await events.emit({ type: 'turn_started', provider: record.provider, model: record.model });
  await deps.bus.enqueue(TURN_STEP_QUEUE.queue, contracts.turn.provisioning, {
    session_id: record.session_id,
    turn_id: record.turn_id,
    step: record.step,
  });
  await events.drain();
  return { turn_id: record.turn_id, started: true };
}
