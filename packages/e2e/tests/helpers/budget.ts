import { existsSync, readFileSync } from 'node:fs';
import { foldLog, type LogEvent, type ReservationView } from '@iii-harness/llm-budget';
import { eventually, type TestClient } from '@iii-harness/testing';
import {
  AGENT_EVENTS_STREAM,
  type AgentEvent,
  type CallUsage,
  contracts,
  isTerminalTurnState,
  type Model,
  type ModelPricing,
  type SessionEntry,
  type TurnView,
} from '@iii-harness/types';
import type { ModelRequest } from './model.js';

/**
 * What the budget tests through the real turn loop share: priced chaos models, turns started on a
 * session that belongs to a workspace, and the budget worker's reservation logs read back from
 * engine state (folded by the worker's own rules: which grant stands and which settlement won).
 */

/** The output cap of every budgeted call (the catalog's max output for these models). */
export const MAX_OUTPUT = 1_000;

/** Prompt tokens cost nothing, output $10 per million: every call costs exactly its worst case when it reports MAX_OUTPUT tokens. */
export const FLAT: Model = {
  id: 'flat-model',
  provider: 'chaos',
  context_window: 200_000,
  max_output_tokens: MAX_OUTPUT,
  capabilities: ['tools'],
  pricing: { input: 0, output: 10, cache_read: 0, cache_write: 0 },
};
/** The worst case of one FLAT call, micro-dollars. */
export const FLAT_CALL = MAX_OUTPUT * 10;

/** A price list like a real one: $3 / $15 per million, cache reads $0.30, cache writes $3.75 (the dearest input). */
export const PRICED: Model = {
  ...FLAT,
  id: 'priced-model',
  pricing: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
};

/** What a usage costs at a price list: summed exactly (pico-dollars) and rounded up to the micro-dollar once (the worker's documented rule). */
export function costOf(usage: CallUsage, pricing: ModelPricing): number {
  const pico = (usdPerMillion: number) => BigInt(Math.round(usdPerMillion * 1_000_000));
  const total =
    BigInt(usage.input_tokens) * pico(pricing.input) +
    BigInt(usage.output_tokens) * pico(pricing.output) +
    BigInt(usage.cache_read_tokens) * pico(pricing.cache_read) +
    BigInt(usage.cache_write_tokens) * pico(pricing.cache_write);
  return Number((total + 999_999n) / 1_000_000n);
}

/** What the chaos model reported for a request it served: the prompt it counted, and one token out (or the cap with CHAOS_OUTPUT_TOKENS=max). */
export const reportedUsage = (request: ModelRequest, outputIsMax = false): CallUsage => ({
  input_tokens: request.tokens,
  output_tokens: outputIsMax ? (request.max_tokens ?? 1) : 1,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
});

/** The requests the chaos model recorded (CHAOS_REQUESTS_FILE). */
export function requestsIn(file: string): ModelRequest[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ModelRequest);
}

/** A user message on a session of `workspace_id` (the session's metadata says who pays); returns the turn id. */
export async function startTurn(
  client: TestClient,
  input: { session_id: string; workspace_id?: string; text: string; model: string },
): Promise<string> {
  await client.bus.call(contracts.session.ensure, {
    session_id: input.session_id,
    ...(input.workspace_id ? { metadata: { workspace_id: input.workspace_id } } : {}),
  });
  const { turn_id } = await client.bus.call(
    contracts.harness.send,
    {
      session_id: input.session_id,
      text: input.text,
      provider: 'chaos',
      model: input.model,
      idempotency_key: `${input.session_id}:${input.text}`,
    },
    { timeoutMs: 30_000 },
  );
  return turn_id;
}

/** Until the turn has ended (the bus may be restarting underneath: failed polls are retried). */
export async function waitTurn(
  client: TestClient,
  session_id: string,
  turn_id: string,
  timeoutMs = 300_000,
): Promise<TurnView> {
  return eventually(
    async () => {
      const view = await client.bus.call(contracts.turn.getState, { session_id }, { timeoutMs: 10_000 });
      if (view.turn_id !== turn_id || !isTerminalTurnState(view.state)) throw new Error(`turn still ${view.state}`);
      return view;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

export async function eventsOf(client: TestClient, session_id: string): Promise<AgentEvent[]> {
  const items = await client.bus.call(contracts.engine.streamList, {
    stream_name: AGENT_EVENTS_STREAM,
    group_id: session_id,
  });
  return ([...(items ?? [])] as AgentEvent[]).sort((a, b) => a.seq - b.seq);
}

/** The `turn_notice` texts the turn left in the transcript (what the user reads). */
export async function noticesOf(client: TestClient, session_id: string): Promise<string[]> {
  const { nodes } = await client.bus.call(contracts.session.tree, { session_id });
  return nodes
    .map((n) => n.entry as SessionEntry)
    .flatMap((e) =>
      e.type === 'custom' && e.custom_type === 'turn_notice' ? [String((e.data as { text?: unknown }).text)] : [],
    );
}

/** One reservation as the budget worker's log decides it. */
export interface ReservationRecord {
  /** The reservation id (known from its grant's hold namespace `<id>~<gen>~<attempt>`). */
  id?: string;
  workspace_id?: string;
  session_id?: string;
  view: ReservationView;
}

export async function reservationsOf(client: TestClient, workspaces: string[]): Promise<ReservationRecord[]> {
  const records = ((await client.bus.call(contracts.engine.stateList, { scope: 'budget_reservations' })) ??
    []) as Array<{ log: LogEvent[] }>;
  return records
    .map(({ log }) => {
      const view = foldLog(log);
      const claim = log.find((e) => e.type === 'claim');
      const scopes = claim?.type === 'claim' ? claim.request.scopes : {};
      return {
        ...(view.grant ? { id: view.grant.ns.split('~')[0] } : {}),
        workspace_id: scopes.workspace_id,
        session_id: scopes.session_id,
        view,
      };
    })
    .filter((r) => r.workspace_id !== undefined && workspaces.includes(r.workspace_id));
}

/** What a settled reservation was charged: the usage committed, else (no usage, or expired) its whole worst case; a release nothing. */
export function chargeOf(record: ReservationRecord, pricing: ModelPricing): number {
  const { grant, settlement } = record.view;
  if (!grant || !settlement || settlement.kind === 'release') return 0;
  if (settlement.kind === 'commit' && settlement.usage) return costOf(settlement.usage, pricing);
  return grant.reserved_micro_usd;
}

/** Every engine state scope the budget worker may leave something in, settled: nothing open, no hold on any counter. */
export async function openBudgetState(client: TestClient): Promise<{ open: unknown[]; holds: string[] }> {
  const open = (await client.bus.call(contracts.engine.stateList, { scope: 'budget_open' })) ?? [];
  const counters = ((await client.bus.call(contracts.engine.stateList, { scope: 'budget_usage' })) ?? []) as Array<
    Record<string, unknown>
  >;
  return { open, holds: counters.flatMap((c) => Object.keys(c).filter((k) => k.startsWith('h~'))) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
