import type { TurnOutcome, TurnState, TurnStepState } from '@iii-harness/types';

/**
 * What a step reports happened. The driver looks the next state up in TRANSITIONS; nothing else
 * in the worker decides where a turn goes.
 */
export type StepOutcome =
  /** provisioning: the model's limits and the tools are fixed. */
  | 'provisioned'
  /** assistant_streaming: a message without function calls. */
  | 'answered'
  /** assistant_streaming: a message with function calls (they form the batch). */
  | 'called_functions'
  /** function_execute / function_awaiting_approval: every call of the batch has its result. */
  | 'batch_done'
  /** function_execute / function_awaiting_approval: some call waits for a person. */
  | 'held'
  /** steering_check: there is news for the model (results, inbox messages) and generations left. */
  | 'ask_model'
  /** steering_check: nothing new for the model: the turn is done. */
  | 'completed'
  /** steering_check: news for the model, but `max_turns` generations were made. */
  | 'max_turns'
  /** The provider ended its stream with an error. */
  | 'provider_failed'
  /** assistant_streaming: a budget refused the model call (before any spend). */
  | 'budget_exceeded'
  /** `run::abort` asked to stop. */
  | 'aborted'
  /** An unexpected error in the step. */
  | 'failed';

type Row = Readonly<Partial<Record<StepOutcome, TurnState>>>;

/** Every way a turn can end, from any working or parked state. */
const ENDINGS = { aborted: 'stopped', failed: 'failed' } as const satisfies Row;

/**
 * The state machine of the durable turn (ARCHITECTURE §6): state × outcome → next state. A pair
 * that is not here is a bug, and `nextState` fails loudly on it. `run::start` creates a turn in
 * `provisioning`; `stopped` and `failed` have no row: nothing leaves them.
 *
 * ```
 * provisioning ─provisioned→ assistant_streaming ─answered→ steering_check ─ask_model→ assistant_streaming
 *                                  │                          ├─completed / max_turns→ stopped
 *                                  ├─budget_exceeded→ stopped
 *                                  └─called_functions→ function_execute ─batch_done→ steering_check
 *                                                         └─held→ function_awaiting_approval ─batch_done→ steering_check
 *                                                                    (a wake-up that leaves calls held stays: held)
 * any working or parked state ─aborted→ stopped, ─failed→ failed; assistant_streaming ─provider_failed→ failed
 * ```
 */
export const TRANSITIONS: Readonly<Record<TurnStepState, Row>> = {
  provisioning: { provisioned: 'assistant_streaming', ...ENDINGS },
  assistant_streaming: {
    answered: 'steering_check',
    called_functions: 'function_execute',
    provider_failed: 'failed',
    budget_exceeded: 'stopped',
    ...ENDINGS,
  },
  function_execute: { batch_done: 'steering_check', held: 'function_awaiting_approval', ...ENDINGS },
  function_awaiting_approval: { batch_done: 'steering_check', held: 'function_awaiting_approval', ...ENDINGS },
  steering_check: { ask_model: 'assistant_streaming', completed: 'stopped', max_turns: 'stopped', ...ENDINGS },
};

export class IllegalTransition extends Error {
  constructor(state: TurnState, outcome: StepOutcome) {
    super(`illegal turn transition: ${state} --${outcome}--> (not in the transition table)`);
    this.name = 'IllegalTransition';
  }
}

/** The state a turn in `state` moves to when its step reports `outcome`; throws on a pair the table lacks. */
export function nextState(state: TurnState, outcome: StepOutcome): TurnState {
  const next = (TRANSITIONS as Readonly<Partial<Record<TurnState, Row>>>)[state]?.[outcome];
  if (!next) throw new IllegalTransition(state, outcome);
  return next;
}

/** How a turn that reached a terminal state through `outcome` ended, for `turn_completed`. */
export function turnOutcomeOf(outcome: StepOutcome): TurnOutcome {
  if (outcome === 'aborted') return 'aborted';
  if (outcome === 'failed' || outcome === 'provider_failed') return 'failed';
  return 'stopped';
}
