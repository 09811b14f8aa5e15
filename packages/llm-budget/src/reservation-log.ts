import { type CallUsage, callScopes, callUsage } from '@iii-harness/types';
import { z } from 'zod';

/**
 * A reservation is an append-only log of events in one engine state key. Every actor (the
 * reserving worker, a retry of the same reserve, commit, release, the sweeper of any replica)
 * appends its event with one `state::update` `append` op and gets the whole log back, its own
 * event last: the engine's per-key atomicity puts all events in one order, and `foldLog` reads
 * the outcome from that order. No compare-and-set is needed: "did my event win" is a pure
 * function of the log. The state machine is the table `TRANSITIONS`.
 */

const tokenPrices = z.object({
  input: z.number().int(),
  output: z.number().int(),
  cache_read: z.number().int(),
  cache_write: z.number().int(),
});

/** What a reserve asked for; a redelivered reserve must ask for the same thing. */
export const reserveRequest = z.object({
  scopes: callScopes,
  provider: z.string(),
  model: z.string(),
  input_tokens: z.number().int(),
  max_output_tokens: z.number().int(),
  min_output_tokens: z.number().int(),
});
export type ReserveRequest = z.infer<typeof reserveRequest>;

/** One budget a grant holds: where the hold is and what it is. */
export const grantEntry = z.object({
  budget_id: z.string(),
  scope: z.object({ kind: z.enum(['workspace', 'agent', 'session']), id: z.string() }),
  counter_key: z.string(),
  period_label: z.string(),
  hold_micro_usd: z.number().int(),
  hold_tokens: z.number().int(),
  cap_micro_usd: z.number().int().optional(),
  cap_tokens: z.number().int().optional(),
  alert_thresholds_pct: z.array(z.number().int()),
  remaining_micro_usd: z.number().int().optional(),
  remaining_tokens: z.number().int().optional(),
});
export type GrantEntry = z.infer<typeof grantEntry>;

export const grantRecord = z.object({
  /** Names the holds: marker `h~<ns>` in each entry's counter. */
  ns: z.string(),
  max_output_tokens: z.number().int(),
  requested_max_output_tokens: z.number().int(),
  shrunk: z.boolean(),
  reserved_micro_usd: z.number().int(),
  reserved_tokens: z.number().int(),
  prices: tokenPrices.nullable(),
  expires_at: z.number().int(),
  entries: z.array(grantEntry),
});
export type GrantRecord = z.infer<typeof grantRecord>;

export const refusalRecord = z.object({
  budget_id: z.string(),
  scope: z.string(),
  reason: z.enum(['cap_micro_usd', 'cap_tokens', 'unpriced_model']),
  remaining_micro_usd: z.number().int().optional(),
  remaining_tokens: z.number().int().optional(),
  needed_micro_usd: z.number().int().optional(),
  needed_tokens: z.number().int().optional(),
  message: z.string(),
});
export type RefusalRecord = z.infer<typeof refusalRecord>;

const at = z.number().int();

export const logEvent = z.discriminatedUnion('type', [
  /** A reserve wants to own the reservation; `takeover_of` deposes an owner presumed crashed. */
  z.object({ type: z.literal('claim'), at, request: reserveRequest, takeover_of: z.number().int().optional() }),
  z.object({ type: z.literal('grant'), at, gen: z.number().int(), grant: grantRecord }),
  z.object({ type: z.literal('refuse'), at, gen: z.number().int(), refusal: refusalRecord }),
  /** The owner gave up, or the sweeper found it stuck: its holds are released, a retry may claim. */
  z.object({ type: z.literal('abandon'), at, gen: z.number().int() }),
  z.object({ type: z.literal('commit'), at, usage: callUsage.optional() }),
  z.object({ type: z.literal('release'), at }),
  z.object({ type: z.literal('expire'), at }),
]);
export type LogEvent = z.infer<typeof logEvent>;

export const reservationRecord = z.object({ log: z.array(logEvent) });

export type Phase = 'unowned' | 'owned' | 'granted' | 'refused' | 'settled';

export interface Settlement {
  kind: 'commit' | 'release' | 'expire';
  at: number;
  /** Absent for a commit without usage (settled at the full amount), a release and an expiry. */
  usage?: CallUsage;
}

export interface ReservationView {
  phase: Phase;
  /** The current (or last) owner's generation; 0 before the first claim. */
  gen: number;
  /** The current owner's claim. */
  claim?: Extract<LogEvent, { type: 'claim' }>;
  grant?: GrantRecord;
  /** The generation whose grant stands. */
  grantGen?: number;
  refusal?: RefusalRecord;
  settlement?: Settlement;
  /** Per event: did it change the outcome (false = ignored: a duplicate, or from a deposed owner). */
  accepted: boolean[];
}

type Rule = (view: ReservationView, event: LogEvent) => Phase | null;

const ownerIs = (view: ReservationView, event: LogEvent) => 'gen' in event && event.gen === view.gen;

/** phase × event → next phase, or null (the event is ignored). Everything not listed is ignored. */
const TRANSITIONS: Record<Phase, Partial<Record<LogEvent['type'], Rule>>> = {
  unowned: { claim: () => 'owned' },
  owned: {
    claim: (view, e) => (e.type === 'claim' && e.takeover_of === view.gen ? 'owned' : null),
    grant: (view, e) => (ownerIs(view, e) ? 'granted' : null),
    refuse: (view, e) => (ownerIs(view, e) ? 'refused' : null),
    abandon: (view, e) => (ownerIs(view, e) ? 'unowned' : null),
  },
  granted: { commit: () => 'settled', release: () => 'settled', expire: () => 'settled' },
  refused: {},
  settled: {},
};

/** The outcome of a reservation's log. Pure: every actor that reads the same log agrees. */
export function foldLog(log: readonly LogEvent[]): ReservationView {
  const view: ReservationView = { phase: 'unowned', gen: 0, accepted: [] };
  for (const event of log) {
    const next = TRANSITIONS[view.phase][event.type]?.(view, event) ?? null;
    view.accepted.push(next !== null);
    if (next === null) continue;
    switch (event.type) {
      case 'claim':
        view.gen += 1;
        view.claim = event;
        break;
      case 'grant':
        view.grant = event.grant;
        view.grantGen = event.gen;
        break;
      case 'refuse':
        view.refusal = event.refusal;
        break;
      case 'abandon':
        view.claim = undefined;
        break;
      case 'commit':
      case 'release':
      case 'expire':
        view.settlement = {
          kind: event.type,
          at: event.at,
          ...(event.type === 'commit' && event.usage ? { usage: event.usage } : {}),
        };
        break;
    }
    view.phase = next;
  }
  return view;
}

/** Whether the last event of `log` (the one the caller just appended) was accepted. */
export const lastAccepted = (view: ReservationView) => view.accepted[view.accepted.length - 1] === true;

/** The hold marker namespace of one attempt of one owner generation. */
export const holdNamespace = (rid: string, gen: number, attempt: number) => `${rid}~${gen}~${attempt}`;

/** The prefix of every hold namespace of one owner generation. */
export const genPrefix = (rid: string, gen: number) => `${rid}~${gen}~`;

/** Two reserve requests ask for the same call (scopes compared field by field). */
export function sameRequest(a: ReserveRequest, b: ReserveRequest): boolean {
  return (
    a.provider === b.provider &&
    a.model === b.model &&
    a.input_tokens === b.input_tokens &&
    a.max_output_tokens === b.max_output_tokens &&
    a.min_output_tokens === b.min_output_tokens &&
    a.scopes.workspace_id === b.scopes.workspace_id &&
    a.scopes.agent_id === b.scopes.agent_id &&
    a.scopes.session_id === b.scopes.session_id
  );
}
