import { AGENT_EVENTS_STREAM, type AgentEvent, contracts, type Message } from '@iii-harness/types';
import { type EngineNode, MultiEngineCluster } from './cluster.js';

/**
 * Issue 21 acceptance: two dev engines sharing a real Redis and RabbitMQ, each with every worker.
 * Fifty sessions get two messages each at once, each send landing on either engine at random;
 * while they run, one engine is killed with all its workers (SIGKILL) and the other must finish
 * every turn. Then, over what was stored: every turn completed once, no session had two live
 * turns, no entry is duplicated, no tool ran twice; and the recovery cron, which the orchestrator
 * registers on both engines (so both fire every period), does its work once per scheduled run.
 */
const SESSIONS = 50;
const CALLS = 2;

jest.setTimeout(900_000);

let cluster: MultiEngineCluster;

afterAll(async () => {
  await cluster?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** A client call on a random live engine, retried (on any live engine) until `deadline`. */
async function onAnyEngine<T>(call: (node: EngineNode) => Promise<T>, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await call(pick(cluster.live()));
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(300);
    }
  }
}

it('50 sessions on two engines, one engine killed mid-run: every turn completes once, nothing duplicated', async () => {
  cluster = await MultiEngineCluster.start(2);
  const [, victim] = cluster.nodes as [EngineNode, EngineNode];
  const sessions = Array.from({ length: SESSIONS }, (_, i) => `multi-${i}-${Math.random().toString(36).slice(2, 7)}`);
  const deadline = Date.now() + 600_000;
  const ended = new Set<string>();

  async function drive(session_id: string): Promise<void> {
    // Two messages at once, through either engine: one turn runs, the other message joins it or follows.
    await Promise.all(
      ['first', 'second'].map((which) =>
        onAnyEngine(
          (node) =>
            node.client.bus.call(
              contracts.harness.send,
              {
                session_id,
                text: `chaos ${session_id} ${which}: calls=${CALLS} held=0`,
                provider: 'chaos',
                model: 'chaos-model',
                idempotency_key: `${session_id}:${which}`,
              },
              { timeoutMs: 15_000 },
            ),
          deadline,
        ),
      ),
    );
    for (;;) {
      const view = await onAnyEngine(
        (node) => node.client.bus.call(contracts.turn.getState, { session_id }, { timeoutMs: 5_000 }),
        deadline,
      );
      const idle = view.state === 'stopped' || view.state === 'failed';
      if (idle && (await bothMessagesAnswered(session_id))) break;
      if (Date.now() > deadline) throw new Error(`${session_id} never settled (${view.state})`);
      await sleep(500);
    }
    ended.add(session_id);
  }

  /** Both user messages are stored and the newest entry on the path is a final assistant answer. */
  async function bothMessagesAnswered(session_id: string): Promise<boolean> {
    const { messages } = await onAnyEngine(
      (node) => node.client.bus.call(contracts.session.messages, { session_id }),
      deadline,
    );
    const users = messages.filter((m) => m.message.role === 'user').length;
    const last = messages.at(-1)?.message;
    return users === 2 && last?.role === 'assistant' && !last.content.some((b) => b.type === 'function_call');
  }

  const drivers = Promise.all(sessions.map((s) => drive(s)));
  // Kill one engine and all its workers once the run is well under way (a quarter of the tools ran).
  while (cluster.runs().length < (SESSIONS * CALLS) / 4 && Date.now() < deadline) await sleep(50);
  expect(ended.size).toBeLessThan(SESSIONS);
  await cluster.kill(victim);
  await drivers;

  const survivor = cluster.live()[0]!;
  const bus = survivor.client.bus;
  const violations: string[] = [];

  // No tool ran twice (each call's marker is unique in the run).
  const runs = cluster.runs();
  const markers = runs.map((r) => String(r.input.marker));
  const twice = markers.filter((m, i) => markers.indexOf(m) !== i);
  if (twice.length) violations.push(`tools ran twice: ${[...new Set(twice)].join(', ')}`);

  let turns = 0;
  let totalCalls = 0;
  // Calls the kill cut off: answered "interrupted" (run at most once, perhaps not at all).
  let interrupted = 0;
  for (const session_id of sessions) {
    const items = await bus.call(contracts.engine.streamList, {
      stream_name: AGENT_EVENTS_STREAM,
      group_id: session_id,
    });
    const events = [...((items ?? []) as AgentEvent[])].sort((a, b) => a.seq - b.seq);
    // Every turn completed exactly once, and a session never had two live turns.
    const live = new Set<string>();
    for (const event of events) {
      if (event.type === 'turn_started') {
        if (live.size) violations.push(`${session_id}: turn ${event.turn_id} started while ${[...live]} was live`);
        live.add(event.turn_id);
        turns++;
      } else if (event.type === 'turn_completed') {
        if (!live.delete(event.turn_id))
          violations.push(`${session_id}: turn ${event.turn_id} completed again, or without starting`);
        if (event.status !== 'stopped') violations.push(`${session_id}: turn ${event.turn_id} ended ${event.status}`);
      }
    }
    if (live.size) {
      const view = await bus.call(contracts.turn.getState, { session_id });
      for (const turn_id of live) {
        if (turn_id !== view.turn_id)
          // Replaced by a turn started at the same time through the other engine (its record was
          // overwritten, so it never completes): the run::start gap.
          violations.push(`${session_id}: turn ${turn_id} was replaced by ${view.turn_id} before it completed`);
        else if (view.state === 'stopped' || view.state === 'failed')
          // The turn ended (its record is terminal) but its turn_completed event never came.
          violations.push(`${session_id}: turn ${turn_id} is ${view.state} without a turn_completed event`);
        else violations.push(`${session_id}: turn ${turn_id} never completed (${view.state})`);
      }
    }
    // No entry duplicated: each user message once, one result per call, every call answered.
    const tree = await bus.call(contracts.session.tree, { session_id });
    const seen = new Map<string, number>();
    for (const { entry } of tree.nodes) {
      if (entry.type !== 'message') continue;
      const message = entry.message as Message;
      const key =
        message.role === 'user'
          ? `user:${typeof message.content === 'string' ? message.content : JSON.stringify(message.content)}`
          : message.role === 'function_result'
            ? `result:${message.function_call_id}`
            : undefined;
      if (key) seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    for (const [key, n] of seen) if (n > 1) violations.push(`${session_id}: ${key} stored ${n} times`);
    const calls = tree.nodes.flatMap(({ entry }) =>
      entry.type === 'message' && (entry.message as Message).role === 'assistant'
        ? (entry.message as Extract<Message, { role: 'assistant' }>).content.flatMap((b) =>
            b.type === 'function_call' ? [b.id] : [],
          )
        : [],
    );
    for (const id of calls) if (!seen.has(`result:${id}`)) violations.push(`${session_id}: call ${id} has no result`);
    totalCalls += calls.length;
    interrupted += tree.nodes.filter(({ entry }) => {
      const message = entry.type === 'message' ? (entry.message as Message) : undefined;
      return message?.role === 'function_result' && JSON.stringify(message.content).includes('interrupted:');
    }).length;
  }

  expect(violations).toEqual([]);
  expect(turns).toBeGreaterThanOrEqual(SESSIONS);
  expect(totalCalls).toBeGreaterThanOrEqual(SESSIONS * CALLS);
  // Every call answered with its real result ran (once: checked above); an interrupted one may not have.
  expect(runs.length).toBeGreaterThanOrEqual(totalCalls - interrupted);
  expect(runs.length).toBeLessThanOrEqual(totalCalls);
});

// `turn::recover` fires on every engine each period (each orchestrator copy has its own cron
// trigger, so the engine's cron lock does not join them); doing the work once per period is the
// worker's part: a claim per `scheduled_time` (runtime's `claimScheduledRun`, as approval-gate,
// harness and hook-fanout do for their sweeps).
it('the recovery cron does its work once per scheduled run across engines', async () => {
  const bus = cluster.live()[0]!.client.bus;
  const claims = (await bus.call(contracts.engine.stateGet, { scope: 'harness_leases', key: 'cron:turn::recover' })) as
    | Record<string, number>
    | undefined;
  const runs = Object.entries(claims ?? {});
  expect(runs.length).toBeGreaterThan(0);
  // Each scheduled run was claimed (by one or both copies); exactly one copy's claim returned 1.
  for (const [, count] of runs) expect(count).toBeGreaterThanOrEqual(1);
});
