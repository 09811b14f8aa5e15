/**
 * The FIFO queue the turn orchestrator's steps run on, one group per session. Declared (with
 * `queue::define`) by every worker that enqueues steps, so whichever starts first creates it.
 */
export const TURN_STEP_QUEUE = {
  queue: 'turn-step',
  config: { type: 'fifo', message_group_field: 'session_id', max_retries: 8, backoff_ms: 250, concurrency: 50 },
} as const;

/** Hook topics the orchestrator publishes through hook-fanout. */
export const HOOK_BEFORE_FUNCTION_CALL = 'agent::before_function_call';
export const HOOK_AFTER_FUNCTION_CALL = 'agent::after_function_call';
