import { type AgentEvent, contracts } from '@iii-harness/types';
import type { Cluster, Exit, ProcessName, WorkerName } from './cluster.js';
import { agentEventsOf } from './stack.js';

/**
 * Chaos over a cluster: concurrent sessions run multi-call turns through `harness::send` (as a
 * client does, retrying a send that failed), a person approves or denies held calls, and
 * meanwhile processes are killed with SIGKILL (and restarted) or frozen with SIGSTOP (and
 * resumed). At the end every invariant of a durable turn is checked over the stored state.
 */
export interface ChaosPlan {
  sessions: number;
  turnsPerSession: number;
  /** Function calls per turn, and how many of them wait for a person. */
  calls: number;
  held: number;
  kills: number;
  /** Processes a kill picks from; `all` (with `allEvery`) also kills every process at once. */
  victims: ProcessName[];
  /** Every n-th kill takes every process at once (0: never). */
  allEvery?: number;
  /** How a kill stops its victim: SIGKILL (default), or SIGTERM, a graceful stop whose exit is recorded. */
  signal?: 'SIGKILL' | 'SIGTERM';
  /** Victims in the order listed, round and round, instead of at random. */
  inTurn?: boolean;
  stops: number;
  stopVictims: WorkerName[];
  /** Pause between chaos events, kill → restart, and SIGSTOP → SIGCONT (ms, [min, max]). */
  gapMs: [number, number];
  restartMs: [number, number];
  stopMs: [number, number];
  /** Wait for a restarted process to be registered before the next event (so kills land on a working process). */
  waitReady?: boolean;
  /** Share of held calls a person denies. */
  denyShare: number;
  /** How long everything may take to settle once the chaos is over. */
  settleMs: number;
  log?: (line: string) => void;
}

export interface ChaosReport {
  turns: number;
  failedTurns: Array<{ session_id: string; turn_id: string; reason?: string; error?: unknown }>;
  kills: Array<{
    victims: ProcessName[];
    at: number;
    recoveredMs?: number;
    /** When the killed processes (every worker, for the engine) were registered again. */
    readyMs?: number;
    /** Sessions still not moving 10 s after the kill, with the state they were last seen in. */
    laggards?: string[];
  }>;
  /** With `signal: 'SIGTERM'`: how each victim exited, and how long it took. */
  exits: Array<{ victim: ProcessName } & Exit>;
  stops: number;
  toolRuns: number;
  holdsResolved: number;
  /** Every broken invariant, in words (empty: all held). */
  violations: string[];
  recovery: { p50?: number; p90?: number; max?: number; unrecovered: number };
  elapsedS: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = ([min, max]: [number, number]) => min + Math.random() * (max - min);
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Keep trying `fn` (the bus may be down) until it answers or `deadline` passes. */
async function persist<T>(fn: () => Promise<T>, deadline: number, pauseMs = 300): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(pauseMs);
    }
  }
}

export async function runChaos(cluster: Cluster, plan: ChaosPlan): Promise<ChaosReport> {
  const began = Date.now();
  const bus = cluster.client.bus;
  const log = plan.log ?? (() => {});
  const sessions = Array.from(
    { length: plan.sessions },
    (_, i) => `chaos-${i}-${Math.random().toString(36).slice(2, 7)}`,
  );
  /** Last time each session was seen to move (turn record updated, or a turn ended). */
  const progressed = new Map<string, number>();
  /** The state each session was last seen in (for the report on slow recoveries). */
  const lastState = new Map<string, string>();
  const live = new Set<string>();
  const denied = new Set<string>();
  let resolved = 0;
  let driving = true;
  let unleashing = true;

  const state = (session_id: string) => bus.call(contracts.turn.getState, { session_id }, { timeoutMs: 3_000 });

  async function drive(session_id: string): Promise<void> {
    // At least turnsPerSession turns, and turns for as long as the chaos goes on.
    for (let k = 1; k <= plan.turnsPerSession || unleashing; k++) {
      const deadline = Date.now() + plan.settleMs + 600_000;
      live.add(session_id);
      await persist(
        () =>
          bus.call(
            contracts.harness.send,
            {
              session_id,
              text: `chaos ${session_id} turn ${k}: calls=${plan.calls} held=${plan.held}`,
              provider: 'chaos',
              model: 'chaos-model',
              idempotency_key: `${session_id}:${k}`,
            },
            { timeoutMs: 10_000 },
          ),
        deadline,
      );
      for (;;) {
        const view = await state(session_id).catch(() => undefined);
        if (view) progressed.set(session_id, Math.max(progressed.get(session_id) ?? 0, view.updated_at));
        if (view) lastState.set(session_id, view.state);
        if (view && (view.state === 'stopped' || view.state === 'failed')) break;
        if (Date.now() > deadline) throw new Error(`${session_id} turn ${k} never ended (${view?.state})`);
        await sleep(250);
      }
      live.delete(session_id);
      progressed.set(session_id, Date.now());
    }
  }

  async function approve(): Promise<void> {
    while (driving) {
      const pending = await bus
        .call(contracts.approval.listPending, {}, { timeoutMs: 3_000 })
        .then((r) => r.pending)
        .catch(() => []);
      for (const hold of pending) {
        const decision = Math.random() < plan.denyShare ? 'deny' : 'allow';
        const answer = await bus
          .call(
            contracts.approval.resolve,
            { session_id: hold.session_id, function_call_id: hold.function_call_id, decision },
            { timeoutMs: 3_000 },
          )
          .catch(() => undefined);
        if (!answer || answer.already_resolved) continue;
        resolved++;
        if (answer.decision === 'deny' && typeof hold.args.marker === 'string') denied.add(hold.args.marker);
      }
      await sleep(250);
    }
  }

  const kills: ChaosReport['kills'] = [];
  const exits: ChaosReport['exits'] = [];
  async function stop(victim: ProcessName): Promise<void> {
    if (plan.signal !== 'SIGTERM') return cluster.kill(victim);
    exits.push({ victim, ...(await cluster.terminate(victim)) });
  }
  async function measureRecovery(entry: ChaosReport['kills'][number], affected: string[]): Promise<void> {
    const deadline = entry.at + 120_000;
    const moved = (s: string) => (progressed.get(s) ?? 0) > entry.at || !live.has(s);
    while (Date.now() < deadline) {
      if (affected.every(moved)) {
        entry.recoveredMs = Date.now() - entry.at;
        return;
      }
      if (!entry.laggards && Date.now() - entry.at > 10_000)
        entry.laggards = affected.filter((s) => !moved(s)).map((s) => `${s}:${lastState.get(s)}`);
      await sleep(100);
    }
  }

  async function unleash(): Promise<number> {
    const events = [...Array(plan.kills).fill('kill'), ...Array(plan.stops).fill('stop')].sort(
      () => Math.random() - 0.5,
    );
    let killCount = 0;
    const measures: Array<Promise<void>> = [];
    for (const event of events) {
      await sleep(between(plan.gapMs));
      if (event === 'kill') {
        killCount++;
        const victims: ProcessName[] =
          plan.allEvery && killCount % plan.allEvery === 0
            ? ['engine', ...cluster.workerNames()]
            : [plan.inTurn ? plan.victims[(killCount - 1) % plan.victims.length]! : pick(plan.victims)];
        const at = Date.now();
        const affected = [...live];
        log(`kill ${victims.join('+')}`);
        await Promise.all(victims.map(stop));
        await sleep(between(plan.restartMs));
        const entry: ChaosReport['kills'][number] = { victims, at };
        kills.push(entry);
        for (const v of victims) await cluster.startProcess(v, plan.waitReady ?? false);
        const restarted = victims.includes('engine') ? cluster.workerNames() : victims;
        measures.push(
          cluster.waitReady(restarted, 120_000).then(
            () => {
              entry.readyMs = Date.now() - at;
            },
            () => {},
          ),
        );
        measures.push(measureRecovery(entry, affected));
      } else {
        const victim = pick(plan.stopVictims);
        log(`stop ${victim}`);
        cluster.pause(victim);
        await sleep(between(plan.stopMs));
        cluster.resume(victim);
      }
    }
    await Promise.all(measures);
    return plan.stops;
  }

  const approver = approve();
  const drivers = Promise.all(sessions.map((s) => drive(s)));
  const stops = await unleash();
  unleashing = false;
  await cluster.waitReady(['engine', ...cluster.workerNames()], 120_000);
  await drivers;
  driving = false;
  await approver;

  const report: ChaosReport = {
    turns: 0,
    failedTurns: [],
    kills,
    exits,
    stops,
    toolRuns: 0,
    holdsResolved: resolved,
    violations: [],
    recovery: percentiles(kills.flatMap((k) => (k.recoveredMs === undefined ? [] : [k.recoveredMs]))),
    elapsedS: (Date.now() - began) / 1000,
  };
  report.recovery.unrecovered = kills.filter((k) => k.recoveredMs === undefined).length;
  await checkInvariants(cluster, sessions, denied, report, plan);
  return report;
}

function percentiles(values: number[]): ChaosReport['recovery'] {
  if (values.length === 0) return { unrecovered: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { p50: at(50), p90: at(90), max: sorted.at(-1), unrecovered: 0 };
}

/** What every durable turn promises, checked over what was stored. */
async function checkInvariants(
  cluster: Cluster,
  sessions: string[],
  denied: Set<string>,
  report: ChaosReport,
  plan: ChaosPlan,
): Promise<void> {
  const bus = cluster.client.bus;
  const v = report.violations;
  const runs = cluster.runs();
  report.toolRuns = runs.length;
  const markers = runs.map((r) => String(r.input.marker));
  const twice = markers.filter((m, i) => markers.indexOf(m) !== i);
  if (twice.length) v.push(`tools ran twice: ${[...new Set(twice)].join(', ')}`);
  const afterDeny = markers.filter((m) => denied.has(m));
  if (afterDeny.length) v.push(`tools ran after a deny: ${afterDeny.join(', ')}`);

  for (const session_id of sessions) {
    const view = await bus.call(contracts.turn.getState, { session_id });
    if (view.state !== 'stopped' && view.state !== 'failed') v.push(`${session_id}: last turn is ${view.state}`);
    const events = await agentEventsOf(bus, session_id);
    const started = new Set(events.filter((e) => e.type === 'turn_started').map((e) => e.turn_id));
    report.turns += started.size;
    for (const turn_id of started) {
      const completed = events.filter((e) => e.type === 'turn_completed' && e.turn_id === turn_id);
      if (completed.length !== 1) v.push(`${session_id}: turn ${turn_id} has ${completed.length} turn_completed`);
      const done = completed[0] as (AgentEvent & { type: 'turn_completed' }) | undefined;
      if (done?.status === 'failed')
        report.failedTurns.push({ session_id, turn_id, reason: done.reason, error: done.error });
    }
    const tree = await bus.call(contracts.session.tree, { session_id });
    const entries = tree.nodes.map((n) => n.entry);
    const resultsPerCall = new Map<string, number>();
    const userTexts = new Map<string, number>();
    for (const entry of entries) {
      if (entry.type !== 'message') continue;
      const { message } = entry;
      if (message.role === 'function_result')
        resultsPerCall.set(message.function_call_id, (resultsPerCall.get(message.function_call_id) ?? 0) + 1);
      if (message.role === 'user' && typeof message.content === 'string')
        userTexts.set(message.content, (userTexts.get(message.content) ?? 0) + 1);
    }
    for (const [id, n] of resultsPerCall) if (n > 1) v.push(`${session_id}: call ${id} has ${n} result entries`);
    for (const [text, n] of userTexts) if (n > 1) v.push(`${session_id}: user message stored ${n} times: ${text}`);
    const path = (await bus.call(contracts.session.messages, { session_id })).messages;
    const calls = path.flatMap((m) =>
      m.message.role === 'assistant'
        ? m.message.content.flatMap((b) => (b.type === 'function_call' ? [b.id] : []))
        : [],
    );
    const answered = new Set(
      path.flatMap((m) => (m.message.role === 'function_result' ? [m.message.function_call_id] : [])),
    );
    for (const id of calls) if (!answered.has(id)) v.push(`${session_id}: call ${id} has no result on the path`);
    if (started.size < plan.turnsPerSession) v.push(`${session_id}: only ${started.size} turns started`);
  }
  const pending = await bus.call(contracts.approval.listPending, {});
  if (pending.pending.length) v.push(`${pending.pending.length} holds still pending after every turn ended`);
  v.push(...cluster.unexpectedExits);
}
