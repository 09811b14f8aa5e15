import { captureTrace, type Handler, HarnessError, uuidv7 } from '@iii-harness/runtime';
import { contracts, emptyUsage, isTerminalTurnState, type RunStartInput, TURN_STEP_QUEUE } from '@iii-harness/types';
import { EventLog } from './events.js';
import type { TurnRecord } from './record.js';
import type { Deps } from './turn.js';

/** Events the creating write reserves: `turn_started`, and two spare for an early ending. */
const START_EVENTS = 3;

/**
 * Start a turn: one update claims the start (store.ts, `claimStart`: on every copy of the
 * orchestrator, at most one start wins while no turn is live), one write creates the record and
 * reserves the number of `turn_started`, the event, and the first step's job. The session itself
 * is created lazily, by the first read of its context. No state in this process: two copies (two
 * engines) serialize through the engine's state alone.
 */
export const runStart = (deps: Deps) =>
  (async (input) => start(deps, input)) satisfies Handler<typeof contracts.run.start>;

async function start(deps: Deps, input: RunStartInput): Promise<{ turn_id: string; started: true }> {
  const nonce = uuidv7();
  const claim = await deps.store.claimStart(input.session_id, nonce, deps.config.start_claim_ms);
  if (!claim.won) {
    await deps.store.dropStart(input.session_id, nonce);
    const live = claim.stored.record;
    throw new HarnessError(
      'conflict',
      live && !isTerminalTurnState(live.state)
        ? `session ${input.session_id} already has a live turn (${live.turn_id})`
        : `a turn is being started on session ${input.session_id}`,
      { reason: 'session_busy' },
    );
  }
  const now = Date.now();
  const trace = captureTrace();
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
    ...(input.workspace_id ? { workspace_id: input.workspace_id } : {}),
    ...(input.agent_id ? { agent_id: input.agent_id } : {}),
    generations: 0,
    model_has_news: false,
    usage: emptyUsage(),
    started_at: now,
    updated_at: now,
    ...(trace ? { trace } : {}),
  };
  const reserved = await deps.store.create({ ...claim, nonce }, record, START_EVENTS);
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
