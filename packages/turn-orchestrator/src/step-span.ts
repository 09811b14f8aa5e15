import { inChildSpan } from '@iii-harness/runtime';
import { isTerminalTurnState, type TurnState, type TurnStepState } from '@iii-harness/types';
import type { TurnRun } from './turn.js';

/**
 * One state of the turn as a span (`turn <state>`) around its step and the save that moves the
 * turn on: which state and step, where it led, and — for the last one — the turn's outcome and a
 * `turn_completed` event, so a trace runs from `harness::send` to the turn's end. A failed turn
 * marks the span failed (with its outcome, never its reason's text).
 */
export function traceStep(run: TurnRun, state: TurnStepState, step: () => Promise<TurnState>): Promise<TurnState> {
  const attributes = { 'iii.turn.state': state, 'iii.turn.step': run.record.step };
  return inChildSpan({ name: `turn ${state}`, attributes }, async (span) => {
    const next = await step();
    span.annotate({ 'iii.turn.next_state': next });
    if (isTerminalTurnState(next)) {
      const outcome = run.record.outcome ?? next;
      span.annotate({ 'iii.turn.outcome': outcome });
      span.event('turn_completed', { 'iii.turn.outcome': outcome });
      if (outcome === 'failed') span.fail('turn_failed');
    }
    return next;
  });
}
