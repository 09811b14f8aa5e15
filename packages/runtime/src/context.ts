import { type Context, context, propagation } from '@opentelemetry/api';

/** Which turn a piece of work belongs to; carried across hops as W3C baggage. */
export interface TurnContext {
  session_id?: string;
  turn_id?: string;
  /** The user message the turn answers (its session entry id). */
  message_id?: string;
}

/**
 * The baggage entries, named as the iii console and `engine::traces::group_by` read them: iii-sdk
 * copies every baggage entry onto every span, so each span of a turn carries all three.
 */
export const TURN_BAGGAGE: Readonly<Record<keyof TurnContext, string>> = {
  session_id: 'iii.session.id',
  turn_id: 'iii.turn.id',
  message_id: 'iii.message.id',
};
const KEYS = Object.keys(TURN_BAGGAGE) as Array<keyof TurnContext>;

export function currentTurnContext(ctx: Context = context.active()): TurnContext {
  const bag = propagation.getBaggage(ctx);
  const out: TurnContext = {};
  for (const key of KEYS) {
    const value = bag?.getEntry(TURN_BAGGAGE[key])?.value;
    if (value) out[key] = value;
  }
  return out;
}

/** A context whose baggage also carries `turn`, so nested triggers inject it for the next hop. */
export function contextWithTurn(turn: TurnContext, ctx: Context = context.active()): Context {
  let bag = propagation.getBaggage(ctx) ?? propagation.createBaggage();
  for (const key of KEYS) {
    const value = turn[key];
    if (value) bag = bag.setEntry(TURN_BAGGAGE[key], { value });
  }
  return propagation.setBaggage(ctx, bag);
}

/** Turn ids found in a payload take precedence over inherited baggage. */
export function turnFromPayload(payload: unknown): TurnContext {
  if (payload === null || typeof payload !== 'object') return {};
  const { session_id, turn_id } = payload as Record<string, unknown>;
  return {
    ...(typeof session_id === 'string' && session_id ? { session_id } : {}),
    ...(typeof turn_id === 'string' && turn_id ? { turn_id } : {}),
  };
}
