/**
 * The FIFO queue the turn orchestrator's steps run on, one group per session. Declared (with
 * `queue::define`) by every worker that enqueues steps, so whichever starts first creates it.
 *
 * Retries: the engine counts a delivery whose orchestrator died as a failed attempt and waits
 * `backoff_ms · 2^(attempts−1)` before the next one, and a failed head holds up its session. A
 * short base keeps that wait below a restart's length even after several crashes in a row (the
 * longest, before the 8th attempt, is 3.2 s); a step that still runs out of attempts is redriven
 * by the orchestrator's recovery (at start-up and in every sweep).
 */
export const TURN_STEP_QUEUE = {
  queue: 'turn-step',
  config: { type: 'fifo', message_group_field: 'session_id', max_retries: 8, backoff_ms: 50, concurrency: 50 },
} as const;

/** Hook topics the orchestrator publishes through hook-fanout. */
export const HOOK_BEFORE_FUNCTION_CALL = 'agent::before_function_call';
export const HOOK_AFTER_FUNCTION_CALL = 'agent::after_function_call';
