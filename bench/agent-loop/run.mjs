#!/usr/bin/env node
import { setMaxListeners } from 'node:events';
// Agent-loop benchmark (issues 6 and 20): our durable turn loop — in one process, and as
// production runs it, one process per worker — against LangGraph.js with its SQLite and its
// Postgres checkpointer and a durable agent loop on Restate; same scripted model and instant tool,
// one run (loopback only). Then idle memory: 1,000 sessions with a parked turn each.
//   node run.mjs              measure all, print, rewrite `## agent loop` in docs/benchmarks.md
//   --no-write                only print
//   --quick                   fewer samples and shorter windows (a smoke run)
//   --tiny                    a handful of turns per phase: checks that every system runs (seconds)
//   --systems=a,b             some of: ours, ours-processes, langgraph-sqlite, langgraph-postgres, restate,
//                             ours-traced (one process per worker, spans exported: tracing on vs off)
//   --only=ours|peer          shorthand: ours alone / LangGraph + SQLite alone (no docs write)
//   --no-throughput           skip the concurrency phase (e.g. to profile sequential turns)
//   --no-trace                skip the pass that counts our bus operations per turn
//   --parked=N                sessions parked for the idle-memory phase (default 1000; 0 skips it)
//   --json                    print raw numbers as JSON
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { startOurs } from './lib/ours.mjs';
import { measureParked, startOursProcesses } from './lib/ours-processes.mjs';
import { startPeer } from './lib/peer.mjs';
import { startPostgres } from './lib/postgres.mjs';
import { renderSection, writeSection } from './lib/report.mjs';
import { startRestate } from './lib/restate.mjs';
import { percentile, sleep } from './lib/stats.mjs';
import { categoryOf, installTrace, traceOps } from './lib/trace.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const quick = flag('quick');
const tiny = flag('tiny');
const TOOL_COUNTS = [1, 3, 10];
const CONCURRENCY = tiny ? [1, 5] : [1, 10, 50];
const PLAN = tiny
  ? { warmup: 2, concurrentWarmup: 5, rounds: 1, perBlock: 1, windowMs: 300, throughputRounds: 1, probes: 5 }
  : quick
    ? { warmup: 10, concurrentWarmup: 50, rounds: 2, perBlock: 4, windowMs: 1_500, throughputRounds: 1, probes: 50 }
    : { warmup: 40, concurrentWarmup: 50, rounds: 8, perBlock: 6, windowMs: 5_000, throughputRounds: 2, probes: 300 };
const ALL_SYSTEMS = ['ours', 'ours-processes', 'langgraph-sqlite', 'langgraph-postgres', 'restate'];
// Not in the default run: the production topology with every worker exporting spans (tracing on vs off).
const EXTRA_SYSTEMS = ['ours-traced'];
const chosen =
  args
    .find((a) => a.startsWith('--systems='))
    ?.slice(10)
    .split(',') ?? (only === 'ours' ? ['ours'] : only === 'peer' ? ['langgraph-sqlite'] : ALL_SYSTEMS);
const PARKED = Number(args.find((a) => a.startsWith('--parked='))?.slice(9) ?? (tiny ? 20 : 1000));

// LangGraph's ToolNode adds an abort listener per tool call; 10 calls trip Node's default of 10.
setMaxListeners(100);
process.env.LANGSMITH_TRACING = 'false';
process.env.LANGCHAIN_TRACING_V2 = 'false';

const began = performance.now();
const dir = mkdtempSync(join(tmpdir(), 'iih-bench-agent-loop-'));
const machine = {
  nproc: availableParallelism(),
  cpu: cpus()[0]?.model ?? 'unknown',
  memGiB: totalmem() / 2 ** 30,
  node: process.version,
  loadBefore: loadavg(),
  date: new Date().toISOString().slice(0, 10),
};

const systems = [];
const stops = [];
for (const which of chosen) {
  const sub = join(dir, which);
  mkdirSync(sub, { recursive: true });
  if (which === 'ours') systems.push(await quietly(() => startOurs({ dataDir: join(sub, 'engine') })));
  else if (which === 'ours-processes') systems.push(await startOursProcesses({ dataDir: sub }));
  else if (which === 'ours-traced')
    systems.push(
      await startOursProcesses({
        dataDir: sub,
        label: 'iii-harness, one process per worker, tracing on',
        traced: true,
      }),
    );
  else if (which === 'langgraph-sqlite') systems.push(await startPeer({ file: join(sub, 'langgraph.sqlite') }));
  else if (which === 'langgraph-postgres') {
    const pg = await startPostgres({ dir: join(sub, 'pg') });
    stops.push(pg.stop);
    systems.push(await startPeer({ postgres: pg.connString, label: 'LangGraph.js + PostgresSaver' }));
  } else if (which === 'restate') systems.push(await quietly(() => startRestate({ dir: sub })));
  else throw new Error(`unknown system ${which} (one of ${[...ALL_SYSTEMS, ...EXTRA_SYSTEMS].join(', ')})`);
}
const peer = systems.find((s) => s.name === 'LangGraph.js');

try {
  const results = { machine, plan: PLAN, expectedRuns: new Map(systems.map((s) => [s, 0])) };
  await warmUp(results);
  results.peerSynchronous = peer?.pragma(); // after the saver's setup switched the file to WAL
  results.notify = await measureNotify();
  results.latency = await measureLatency(results);
  results.waiting = await measureWaiting(results);
  if (!flag('no-throughput')) results.throughput = await measureThroughput(results);
  results.checks = await checkCorrectness(results);
  if (!flag('no-trace') && systems.some((s) => s.callerOf)) {
    installTrace(systems.find((s) => s.callerOf).callerOf);
    results.trace = await traceOurs();
  }
  if (PARKED > 0 && chosen.includes('ours-processes')) results.memory = await measureMemory();
  machine.loadAfter = loadavg();
  results.elapsedS = (performance.now() - began) / 1000;
  delete results.expectedRuns;
  if (flag('json')) console.log(JSON.stringify(results, null, 2));
  const section = renderSection(results);
  console.log(`\n${section}`);
  if (!flag('no-write') && !only && !tiny && !args.some((a) => a.startsWith('--systems='))) writeSection(section);
} finally {
  for (const system of systems) await system.close();
  for (const stop of stops) await stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);

/** The SDK prints two debug lines per connection; keep the bench's output readable. */
async function quietly(fn) {
  const debug = console.debug;
  console.debug = (...a) => (typeof a[0] === 'string' && /^\[(OTel|iii)\]/.test(a[0]) ? undefined : debug(...a));
  return fn();
}

async function turn(system, n, results) {
  results.expectedRuns.set(system, results.expectedRuns.get(system) + n);
  return system.turn(n);
}

async function warmUp(results) {
  for (const system of systems) {
    for (let i = 0; i < PLAN.warmup; i++) await turn(system, TOOL_COUNTS[i % TOOL_COUNTS.length], results);
    // The concurrent paths (queue groups, SQLite under interleaving) warm up too.
    await Promise.all(Array.from({ length: PLAN.concurrentWarmup }, () => turn(system, 3, results)));
  }
  console.log(`warm-up done (${((performance.now() - began) / 1000).toFixed(1)} s)`);
}

/** What our waiting method costs: a stream write until the trigger reaches the bench client. */
async function measureNotify() {
  const ours = systems.find((s) => s.probeNotify);
  if (!ours) return undefined;
  const samples = [];
  for (let i = 0; i < PLAN.probes; i++) samples.push(await ours.probeNotify());
  const notify = samples.map((s) => s.notifyMs);
  const write = samples.map((s) => s.writeMs);
  return { notifyP50: percentile(notify, 50), notifyP95: percentile(notify, 95), writeP50: percentile(write, 50) };
}

/** Sequential turns, one session at a time; blocks alternate between the systems so noise hits both. */
async function measureLatency(results) {
  const samples = new Map(systems.map((s) => [s.name, new Map(TOOL_COUNTS.map((n) => [n, []]))]));
  for (let round = 0; round < PLAN.rounds; round++) {
    const order = round % 2 === 0 ? systems : [...systems].reverse();
    for (const n of TOOL_COUNTS) {
      for (const system of order) {
        for (let i = 0; i < PLAN.perBlock; i++)
          samples
            .get(system.name)
            .get(n)
            .push((await turn(system, n, results)).ms);
      }
    }
  }
  const out = {};
  for (const [name, byN] of samples) {
    out[name] = {};
    for (const [n, ms] of byN)
      out[name][n] = { p50: percentile(ms, 50), p95: percentile(ms, 95), min: Math.min(...ms), count: ms.length };
  }
  console.log(`latency done (${((performance.now() - began) / 1000).toFixed(1)} s)`);
  return out;
}

/**
 * What waiting through the stream trigger costs the turn: 3-call turns, alternating blocks with
 * the subscription and with an in-process notice (no subscription, no bus traffic).
 */
async function measureWaiting(results) {
  const ours = systems.find((s) => s.setWaitMode);
  if (!ours) return undefined;
  const samples = { stream: [], inprocess: [] };
  for (let round = 0; round < PLAN.rounds; round++) {
    for (const mode of round % 2 === 0 ? ['inprocess', 'stream'] : ['stream', 'inprocess']) {
      await ours.setWaitMode(mode);
      for (let i = 0; i < PLAN.perBlock; i++) samples[mode].push((await turn(ours, 3, results)).ms);
    }
  }
  await ours.setWaitMode('stream');
  return {
    streamP50: percentile(samples.stream, 50),
    inprocessP50: percentile(samples.inprocess, 50),
    count: samples.stream.length,
  };
}

/** Closed loop: `c` sessions each run 3-call turns back to back for the window; turns/s over the window plus drain. */
async function closedLoop(system, c, results) {
  const deadline = performance.now() + PLAN.windowMs;
  const start = performance.now();
  let completed = 0;
  const latencies = [];
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (performance.now() < deadline) {
        latencies.push((await turn(system, 3, results)).ms);
        completed += 1;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { turnsPerS: completed / seconds, completed, p50: percentile(latencies, 50), p95: percentile(latencies, 95) };
}

async function measureThroughput(results) {
  const runs = new Map(systems.map((s) => [s.name, new Map(CONCURRENCY.map((c) => [c, []]))]));
  for (let round = 0; round < PLAN.throughputRounds; round++) {
    for (const c of CONCURRENCY) {
      const order = round % 2 === 0 ? systems : [...systems].reverse();
      for (const system of order) {
        runs
          .get(system.name)
          .get(c)
          .push(await closedLoop(system, c, results));
        await sleep(200);
      }
    }
  }
  const out = {};
  for (const [name, byC] of runs) {
    out[name] = {};
    for (const [c, list] of byC) {
      // Rounds are averaged by total turns over total time; latencies from the best round.
      const best = list.reduce((a, b) => (b.turnsPerS > a.turnsPerS ? b : a));
      out[name][c] = {
        turnsPerS: list.reduce((s, r) => s + r.turnsPerS, 0) / list.length,
        rounds: list.map((r) => r.turnsPerS),
        completed: list.reduce((s, r) => s + r.completed, 0),
        p50: best.p50,
        p95: best.p95,
      };
    }
  }
  console.log(`throughput done (${((performance.now() - began) / 1000).toFixed(1)} s)`);
  return out;
}

/**
 * Idle memory of the production topology: a fresh one, `PARKED` sessions each with a turn parked on
 * a call that waits for a person, then the resident memory of all its processes.
 */
async function measureMemory() {
  const system = await startOursProcesses({ dataDir: join(dir, 'memory'), label: 'parked' });
  try {
    const out = await measureParked(system, PARKED);
    console.log(`memory done (${((performance.now() - began) / 1000).toFixed(1)} s)`);
    return out;
  } finally {
    await system.close();
  }
}

/** Every tool call ran exactly once on every side, and sample transcripts have the expected shape. */
async function checkCorrectness(results) {
  const checks = {};
  for (const system of systems) {
    await system.syncRuns?.();
    const toolRuns = system.runs.count;
    const expected = results.expectedRuns.get(system);
    const samples = {};
    for (const n of TOOL_COUNTS) {
      const { sessionId } = await system.turn(n);
      samples[n] = {
        roles: await system.roles(sessionId),
        ...(system.rowsFor ? { rows: system.rowsFor(sessionId) } : {}),
        ...(system.eventTypes ? { events: await system.eventTypes(sessionId) } : {}),
      };
    }
    const sampleRuns = TOOL_COUNTS.reduce((a, b) => a + b, 0);
    await system.syncRuns?.();
    checks[system.name] = {
      toolRuns,
      expected,
      exactlyOnce: toolRuns === expected && system.runs.count === toolRuns + sampleRuns,
      samples,
    };
    if (!checks[system.name].exactlyOnce)
      console.error(`!! ${system.name}: ${toolRuns} tool runs for ${expected} calls`);
  }
  return checks;
}

/** Our bus operations per turn, by function and by category (3 turns per tool count, averaged). */
async function traceOurs() {
  const ours = systems.find((s) => s.probeNotify);
  if (!ours) return undefined;
  const out = {};
  for (const n of TOOL_COUNTS) {
    const turns = 3;
    const ops = await traceOps(async () => {
      for (let i = 0; i < turns; i++) await ours.turn(n);
      await sleep(50); // late event writes of the last turn
    });
    const byFunction = Object.fromEntries(
      [...ops]
        .map(([k, v]) => [
          k,
          {
            count: v.count / turns,
            meanMs: v.ms / v.count,
            callers: Object.fromEntries(Object.entries(v.callers).map(([c, x]) => [c, x / turns])),
          },
        ])
        .sort((a, b) => b[1].count - a[1].count),
    );
    const byCategory = {};
    const byCaller = {};
    for (const [k, v] of Object.entries(byFunction)) {
      const cat = categoryOf(k);
      byCategory[cat] = (byCategory[cat] ?? 0) + v.count;
      for (const [c, x] of Object.entries(v.callers)) byCaller[c] = (byCaller[c] ?? 0) + x;
    }
    out[n] = { byFunction, byCategory, byCaller, total: Object.values(byFunction).reduce((s, v) => s + v.count, 0) };
  }
  return out;
}
