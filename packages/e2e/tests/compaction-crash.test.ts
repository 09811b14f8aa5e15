import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@iii-harness/testing';
import { type AgentEvent, contracts, isTerminalTurnState, type SessionEntry, type TurnView } from '@iii-harness/types';
import { Cluster, type ProcessName } from './helpers/cluster.js';
import { catalogModels, type ModelRequest } from './helpers/model.js';
import { agentEventsOf } from './helpers/stack.js';

/**
 * Issue 14, "kill the compaction worker mid-summary and the orchestrator mid-turn", through the
 * real turn loop: every worker a process, the chaos model refusing any request over an 8k window
 * and summarising slowly (CHAOS_SUMMARY_DELAY_MS). Each round takes a fresh session just past the
 * window, starts a turn whose pre-flight must compact, and while the summariser is answering
 * SIGKILLs both the compaction worker and the orchestrator (in either order, at random moments),
 * restarting each (the compaction worker first, or both at once). Then: the turn completed; one compaction entry,
 * appended once the dead worker's lease had expired, and no summary asked for before that; no entry
 * lost or stored twice; no request over the window; the tool ran once; and, after the last round,
 * a `/compact` succeeds. COMPACTION_CRASH_ROUNDS sets the rounds of each (2).
 */
jest.setTimeout(900_000);

const WINDOW = 8_192;
const MAX_OUTPUT = 1_024;
const SUMMARY_DELAY_MS = 2_500;
// Longer than a restart takes here, so the recovered turn's compaction meets the dead worker's lease.
const LEASE_TTL_MS = 10_000;
const ROUNDS = Number(process.env.COMPACTION_CRASH_ROUNDS ?? 2);
const MODEL = 'small-8k';

type Order = 'compaction-first' | 'orchestrator-first';

const requestsFile = join(mkdtempSync(join(tmpdir(), 'iih-compaction-crash-')), 'requests.jsonl');
let cluster: Cluster;

beforeAll(async () => {
  cluster = await Cluster.start({
    provider: 'chaos',
    env: {
      provider: {
        CHAOS_WINDOW_TOKENS: String(WINDOW),
        CHAOS_SUMMARY_DELAY_MS: String(SUMMARY_DELAY_MS),
        CHAOS_REQUESTS_FILE: requestsFile,
      },
    },
    config: {
      'turn-orchestrator': { compaction_timeout_ms: 30_000, compaction_plan_timeout_ms: 10_000 },
      // A restarted worker waits out the dead one's lease instead of answering `busy`.
      'context-compaction': { lease_ttl_ms: LEASE_TTL_MS, busy_wait_ms: 20_000 },
    },
    extra: {
      catalog: { pkg: 'models-catalog', ready: contracts.models.get.id },
      compaction: { pkg: 'context-compaction', ready: contracts.compaction.compactNow.id },
    },
  });
  await catalogModels(cluster.client, [{ id: MODEL, context_window: WINDOW, max_output_tokens: MAX_OUTPUT }]);
}, 300_000);

afterAll(async () => {
  await cluster?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => Math.floor(min + Math.random() * (max - min));

/** A request as the chaos model recorded it, with when it arrived. */
type Recorded = ModelRequest & { at: number };

function modelRequests(): Recorded[] {
  if (!existsSync(requestsFile)) return [];
  return readFileSync(requestsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Recorded);
}

const summariesOf = (sessionId: string) =>
  modelRequests().filter((r) => r.kind === 'summary' && r.request_id.startsWith(`compaction:${sessionId}:`));

const entriesOf = async (session_id: string) =>
  (await cluster.client.bus.call(contracts.session.tree, { session_id })).nodes.map((n) => n.entry as SessionEntry);

async function eventsOf(session_id: string): Promise<AgentEvent[]> {
  const items = await agentEventsOf(cluster.client.bus, session_id);
  return items.sort((a, b) => a.seq - b.seq);
}

/** The lease record as engine state holds it (the worker that would serve get_state may be dead). */
async function leaseOf(session_id: string): Promise<{ expires_at: number; holder?: string }> {
  const record = (await cluster.client.bus.call(contracts.engine.stateGet, {
    scope: 'compaction',
    key: `lease:${session_id}`,
  })) as { expires_at?: number; holder?: string } | null;
  return { expires_at: record?.expires_at ?? 0, holder: record?.holder };
}

/** History the model already answered, just past the usable window: the next turn must compact. */
async function history(session_id: string): Promise<string[]> {
  await cluster.client.bus.call(contracts.session.ensure, { session_id });
  const text = (i: number) =>
    `${i}: ${'the earlier conversation went on about the build and its settings. '.repeat(9)}`;
  const { entries } = await cluster.client.bus.call(contracts.session.appendBatch, {
    session_id,
    entries: Array.from({ length: 34 }, (_, i) => [
      { entry: { type: 'message' as const, message: { role: 'user' as const, content: `question ${text(i)}` } } },
      {
        entry: {
          type: 'message' as const,
          message: {
            role: 'assistant' as const,
            content: [{ type: 'text' as const, text: `answer ${text(i)}` }],
            provider: 'chaos',
            model: 'earlier-model',
            usage: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 },
            stop_reason: 'end' as const,
          },
        },
      },
    ]).flat(),
  });
  return entries.map((e) => e.entry_id);
}

async function waitForEnd(session_id: string, turn_id: string): Promise<TurnView> {
  return eventually(
    async () => {
      const view = await cluster.client.bus.call(contracts.turn.getState, { session_id }, { timeoutMs: 3_000 });
      if (view.turn_id !== turn_id || !isTerminalTurnState(view.state)) throw new Error(`turn still ${view.state}`);
      return view;
    },
    { timeoutMs: 180_000, intervalMs: 200 },
  );
}

interface Round {
  session_id: string;
  order: Order;
  /** ms between the summariser request arriving and the first kill, then between the kills. */
  gaps: [number, number];
  /** When the compaction worker was SIGKILLed, and its lease's expiry read right after. */
  killedAt: number;
  deadLeaseExpiresAt: number;
  preloaded: string[];
  turn_id: string;
}

/**
 * How the killed processes come back: the compaction worker registered again before the
 * orchestrator restarts, or both at once (then a recovered turn may run before the worker is back).
 */
type Restart = 'compaction-then-orchestrator' | 'together';

/** One round: a turn that must compact, both processes SIGKILLed while the summariser answers. */
async function crashRound(index: number, restart: Restart): Promise<Round> {
  const session_id = `crash-${index}-${Math.random().toString(36).slice(2, 7)}`;
  const order: Order = index % 2 === 0 ? 'compaction-first' : 'orchestrator-first';
  const preloaded = await history(session_id);
  const { turn_id } = await cluster.client.bus.call(contracts.harness.send, {
    session_id,
    text: `chaos ${session_id} turn 1: calls=1 pad=900`,
    provider: 'chaos',
    model: MODEL,
  });
  await eventually(() => expect(summariesOf(session_id)).toHaveLength(1), { timeoutMs: 120_000, intervalMs: 20 });
  // Both kills land while the summary is still being written (SUMMARY_DELAY_MS).
  const gaps: [number, number] = [between(0, 600), between(0, 600)];
  const victims: ProcessName[] =
    order === 'compaction-first' ? ['compaction', 'turn-orchestrator'] : ['turn-orchestrator', 'compaction'];
  let deadLeaseExpiresAt = 0;
  let killedAt = 0;
  for (const [i, victim] of victims.entries()) {
    await sleep(gaps[i]!);
    await cluster.kill(victim);
    if (victim !== 'compaction') continue;
    killedAt = Date.now();
    deadLeaseExpiresAt = (await leaseOf(session_id)).expires_at;
  }
  // The dead worker held the lease: nobody may compact this session until it expires.
  expect(deadLeaseExpiresAt).toBeGreaterThan(0);
  await sleep(between(0, 500));
  if (restart === 'together') {
    for (const victim of victims) await cluster.startProcess(victim, false);
    await cluster.waitReady(victims);
  } else {
    await cluster.startProcess('compaction');
    await sleep(between(0, 500));
    await cluster.startProcess('turn-orchestrator');
  }
  return { session_id, order, gaps, killedAt, deadLeaseExpiresAt, preloaded, turn_id };
}

/** Everything the round promises, as a list of what broke (empty: all held). */
async function violationsOf(round: Round): Promise<string[]> {
  const { session_id, turn_id } = round;
  const v: string[] = [];
  const view = await waitForEnd(session_id, turn_id);
  const events = await eventsOf(session_id);
  if (view.state !== 'stopped') {
    const told = events.filter((e) => e.type.startsWith('compaction') || e.type === 'turn_waiting');
    v.push(`the turn ended ${view.state}: ${JSON.stringify(view.error)}; events ${JSON.stringify(told)}`);
    v.push(...cluster.grep('turn-orchestrator', /compaction|waiting/));
  }
  const completed = events.filter((e) => e.type === 'turn_completed');
  if (completed.length !== 1 || (completed[0]?.type === 'turn_completed' && completed[0].status !== 'stopped'))
    v.push(`turn_completed: ${JSON.stringify(completed)}`);

  const entries = await entriesOf(session_id);
  const ids = entries.map((e) => e.id);
  if (new Set(ids).size !== ids.length) v.push('an entry id appears twice in the tree');
  const lost = round.preloaded.filter((id) => !ids.includes(id));
  if (lost.length) v.push(`original entries lost: ${lost.join(', ')}`);
  // The preloaded history, then the turn: its user message, the call, its result and the answer.
  const messages = entries.filter((e) => e.type === 'message');
  if (messages.length !== round.preloaded.length + 4) v.push(`${messages.length} message entries`);
  const compactions = entries.filter((e) => e.type === 'compaction');
  if (compactions.length !== 1) v.push(`${compactions.length} compaction entries (one compaction was needed)`);
  for (const c of compactions)
    if (c.created_at < round.deadLeaseExpiresAt)
      v.push(
        `a compaction was appended ${round.deadLeaseExpiresAt - c.created_at} ms before the dead worker's lease expired`,
      );
  // Nobody summarised this session between the kill and the dead worker's lease expiry.
  const meanwhile = summariesOf(session_id).filter((r) => r.at > round.killedAt && r.at < round.deadLeaseExpiresAt);
  if (meanwhile.length) v.push(`${meanwhile.length} summaries were asked for while the dead worker's lease held`);
  // The compaction is on the path the model reads, not on a side branch.
  const path = (await cluster.client.bus.call(contracts.session.messages, { session_id })).messages;
  if (!String(path[0]?.message.role === 'user' && path[0].message.content).includes('## Goal'))
    v.push('the context does not start with the summary');

  const runs = cluster.runs().filter((r) => String(r.input.marker).startsWith(`${session_id}/`));
  if (runs.length !== 1) v.push(`the tool ran ${runs.length} times`);
  const agent = modelRequests().filter((r) => r.kind === 'agent' && r.request_id.startsWith(turn_id));
  const over = agent.filter((r) => r.refused || r.tokens > WINDOW - MAX_OUTPUT);
  if (over.length) v.push(`requests over the window: ${JSON.stringify(over)}`);
  if (agent.length < 2) v.push(`${agent.length} model requests for a turn with one call`);
  return v;
}

async function crashRounds(rounds: number, restart: Restart): Promise<void> {
  const report: Array<Omit<Round, 'preloaded'> & { summaries: number[]; violations: string[] }> = [];
  for (let i = 0; i < rounds; i++) {
    const round = await crashRound(i, restart);
    const violations = await violationsOf(round);
    const { preloaded: _, ...shown } = round;
    const summaries = summariesOf(round.session_id).map((r) => r.at - round.deadLeaseExpiresAt);
    report.push({ ...shown, summaries, violations });
    if (i < rounds - 1) continue;
    // A later compaction of the same session succeeds: the lease is free again.
    const manual = await cluster.client.bus.call(
      contracts.compaction.compactSession,
      { session_id: round.session_id, provider: 'chaos', model: MODEL },
      { timeoutMs: 60_000 },
    );
    if (manual.status !== 'compacted') violations.push(`a later /compact answered ${manual.status}: ${manual.message}`);
    const compactions = (await entriesOf(round.session_id)).filter((e) => e.type === 'compaction');
    if (compactions.length !== 2) violations.push(`${compactions.length} compaction entries after the later /compact`);
  }
  if (process.env.COMPACTION_CRASH_REPORT) console.log(JSON.stringify(report, null, 2));
  expect(report.filter((r) => r.violations.length)).toEqual([]);
  expect(cluster.unexpectedExits).toEqual([]);
}

it(`the compaction worker and the orchestrator SIGKILLed mid-summary (${ROUNDS} rounds): the turn completes, one compaction, after the lease`, async () => {
  await crashRounds(ROUNDS, 'compaction-then-orchestrator');
});

// Both restarted at once: the orchestrator may recover the turn before the compaction worker has
// registered again; the turn was provisioned with the worker, so it waits for it.
it(`both restarted at once (${ROUNDS} rounds): the turn still completes, one compaction, nothing over the window`, async () => {
  await crashRounds(ROUNDS, 'together');
});
