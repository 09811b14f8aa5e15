// Dev-engine benchmarks, one run, loopback only, bounded to well under two minutes.
//
//   npm run bench -w @iii-harness/dev-engine        (builds dist/ first)
//   node bench/run.mjs [--out results.json] [--profile] [--engine <dir>/dist/main.js]
//       (against an existing dist/; --engine: another build, a copy of dist/ with package.json
//       beside it, to compare two builds)
//
// Three processes: the engine (dist/main.js, file-backed data dir), worker B (bench/callee.mjs:
// the targets plus a raw WebSocket echo server) and this process as worker A (the caller).
// --profile runs the engine under `node --cpu-prof` and prints where the .cpuprofile went.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, freemem, platform, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerWorker, TriggerAction } from 'iii-sdk';
import WebSocket from 'ws';

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, '..');
const argv = process.argv.slice(2);
const args = new Set(argv);
const option = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const outFile = option('--out');
const engineMain = option('--engine') ?? join(packageDir, 'dist', 'main.js');
const now = () => performance.timeOrigin + performance.now();

const SETTINGS = {
  rttWarmup: 500,
  rttSamples: 5_000,
  rttBlocks: 10,
  builtinWarmup: 200,
  builtinSamples: 2_000,
  throughputInFlight: 100,
  throughputMs: 5_000,
  enqueueSamples: 2_000,
  enqueueBurst: 20_000,
  enqueueInFlight: 100,
  stateInFlight: 100,
  stateOps: 30_000,
};

const children = [];
const dataDir = mkdtempSync(join(tmpdir(), 'dev-engine-bench-'));
const profileDir = join(packageDir, 'bench', 'profiles');

try {
  const results = await main();
  printReport(results);
  if (outFile) writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);

async function main() {
  const enginePort = await freePort();
  const echoPort = await freePort();
  const relayPort = await freePort();
  const engineUrl = `ws://127.0.0.1:${enginePort}`;

  const engineArgs = [engineMain, '--port', String(enginePort), '--data-dir', dataDir, '--log-level', 'warn'];
  if (args.has('--profile')) engineArgs.unshift('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
  children.push(spawn(process.execPath, engineArgs, { stdio: ['ignore', 'ignore', 'inherit'] }));
  await waitForPort(enginePort);
  children.push(spawn(process.execPath, [join(here, 'relay.mjs'), String(relayPort)], { stdio: 'inherit' }));
  await waitForPort(relayPort);
  const calleeArgs = [join(here, 'callee.mjs'), engineUrl, String(echoPort), `ws://127.0.0.1:${relayPort}`];
  children.push(spawn(process.execPath, calleeArgs, { stdio: 'inherit' }));

  const worker = registerWorker(engineUrl, {
    workerName: 'bench-caller',
    otel: { enabled: false },
    enableMetricsReporting: false,
  });
  await until(
    async () =>
      (await worker.trigger({ function_id: 'bench::echo', payload: { ready: true }, timeoutMs: 1000 }))?.ready === true,
  );
  await worker.trigger({ function_id: 'queue::define', payload: { queue: 'bench', config: { concurrency: 10 } } });
  await worker.trigger({
    function_id: 'queue::define',
    payload: { queue: 'bench-burst', config: { concurrency: 100 } },
  });

  const results = { machine: machineFacts(), settings: SETTINGS };
  await waitForPort(echoPort);
  Object.assign(results, await measureRoundTrips(worker, engineUrl, echoPort, relayPort));
  results.builtins = await measureBuiltins(engineUrl);
  results.throughput = await measureThroughput(worker);
  results.enqueue = await measureEnqueueLatency(worker);
  results.queueThroughput = await measureQueueThroughput(worker);
  results.state = await measureStateSet(worker);
  results.targets = {
    rttWithin1_5xRaw: results.engine.p50 <= 1.5 * results.raw.p50,
    rttRatioP50: round(results.engine.p50 / results.raw.p50),
    rttRatioP99: round(results.engine.p99 / results.raw.p99),
    relayRatioP50: round(results.engine.p50 / results.relay.p50),
    relayRatioP99: round(results.engine.p99 / results.relay.p99),
    engineRawVsRelayP50: round(results.engineRaw.p50 / results.relay.p50),
    throughputAtLeast10k: results.throughput.perSecond >= 10_000,
  };
  await worker.shutdown();
  if (args.has('--profile')) {
    children[0].kill('SIGINT'); // --cpu-prof writes the profile on a clean exit
    await new Promise((resolve) => children[0].once('exit', resolve));
    results.profileDir = profileDir;
  }
  return results;
}

/**
 * Sequential round trips, interleaved in blocks so machine noise hits all of them alike:
 * - engine: `trigger()` from A to B's `bench::echo` (A → engine → B → engine → A, SDK both ends);
 * - engineRaw: the same path with bare WebSockets speaking the protocol at A and B (no SDK);
 * - relay: the same-size frame through bench/relay.mjs, a byte-forwarding third process;
 * - raw: that frame echoed by B over one direct WebSocket (A → B → A).
 */
async function measureRoundTrips(worker, engineUrl, echoPort, relayPort) {
  const payload = { i: 0, text: 'x'.repeat(64) };
  const engine = async () => {
    await worker.trigger({ function_id: 'bench::echo', payload });
  };
  const engineRaw = await rawProtocolClient(engineUrl);
  const raw = await rawRoundTrip(`ws://127.0.0.1:${echoPort}`);
  const relay = await rawRoundTrip(`ws://127.0.0.1:${relayPort}`);
  const kinds = { engine, engineRaw: engineRaw.roundTrip, relay: relay.roundTrip, raw: raw.roundTrip };
  const samples = { engine: [], engineRaw: [], relay: [], raw: [] };
  for (const roundTrip of Object.values(kinds)) for (let i = 0; i < SETTINGS.rttWarmup; i++) await roundTrip(i);
  const block = SETTINGS.rttSamples / SETTINGS.rttBlocks;
  for (let b = 0; b < SETTINGS.rttBlocks; b++) {
    for (const [kind, roundTrip] of Object.entries(kinds)) {
      for (let i = 0; i < block; i++) {
        payload.i = i;
        const start = performance.now();
        await roundTrip(i);
        samples[kind].push(performance.now() - start);
      }
    }
  }
  raw.close();
  relay.close();
  engineRaw.close();
  return Object.fromEntries(Object.entries(samples).map(([kind, list]) => [kind, summarize(list)]));
}

/**
 * Sequential calls of the engine's own functions from a bare protocol client (A → engine → A),
 * interleaved in blocks: the engine's cost per builtin op without the SDK's.
 */
async function measureBuiltins(engineUrl) {
  const client = await rawProtocolClient(engineUrl);
  const value = { text: 'x'.repeat(64), n: 0 };
  const ops = {
    'state::get': (i) => ({ scope: 'bench-ops', key: `k${i % 100}` }),
    'state::set': (i) => ({ scope: 'bench-ops', key: `k${i % 100}`, value: { ...value, n: i } }),
    'state::update': (i) => ({
      scope: 'bench-ops',
      key: `k${i % 100}`,
      ops: [{ type: 'increment', path: 'n', by: 1 }],
    }),
    'stream::set': (i) => ({
      stream_name: 'bench-ops',
      group_id: 'g',
      item_id: `i${i % 100}`,
      data: { ...value, n: i },
    }),
    'stream::send': (i) => ({ stream_name: 'bench-ops', group_id: 'g', type: 'tick', data: { ...value, n: i } }),
  };
  const samples = Object.fromEntries(Object.keys(ops).map((id) => [id, []]));
  for (const [id, input] of Object.entries(ops))
    for (let i = 0; i < SETTINGS.builtinWarmup; i++) await client.call(id, input(i));
  const block = SETTINGS.builtinSamples / SETTINGS.rttBlocks;
  for (let b = 0; b < SETTINGS.rttBlocks; b++) {
    for (const [id, input] of Object.entries(ops)) {
      for (let i = 0; i < block; i++) {
        const data = input(i);
        const start = performance.now();
        const frame = await client.call(id, data);
        samples[id].push(performance.now() - start);
        if (frame.error) throw new Error(`bench: ${id} failed: ${frame.error.message}`);
      }
    }
  }
  client.close();
  return Object.fromEntries(Object.entries(samples).map(([id, list]) => [id, summarize(list)]));
}

/** A caller without the SDK: invokefunction frames (by default to `bench::raw_echo`), one at a time. */
async function rawProtocolClient(engineUrl) {
  const ws = new WebSocket(engineUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let waiting;
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    if (frame.type === 'invocationresult') waiting?.(frame);
  });
  const text = 'x'.repeat(64);
  const call = (functionId, data) =>
    new Promise((resolve) => {
      waiting = resolve;
      ws.send(
        JSON.stringify({ type: 'invokefunction', invocation_id: crypto.randomUUID(), function_id: functionId, data }),
      );
    });
  const roundTrip = (i) => call('bench::raw_echo', { i, text });
  await until(async () => (await roundTrip(0)).error === undefined);
  return { roundTrip, call, close: () => ws.close() };
}

async function rawRoundTrip(url) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const text = 'x'.repeat(64);
  const roundTrip = (i) =>
    new Promise((resolve) => {
      ws.once('message', resolve);
      ws.send(
        JSON.stringify({
          type: 'invokefunction',
          invocation_id: crypto.randomUUID(),
          function_id: 'bench::echo',
          data: { i, text },
        }),
      );
    });
  return { roundTrip, close: () => ws.close() };
}

/** `throughputInFlight` concurrent callers for `throughputMs`: completed invocations per second. */
async function measureThroughput(worker) {
  let completed = 0;
  const deadline = performance.now() + SETTINGS.throughputMs;
  const payload = { text: 'x'.repeat(64) };
  const lane = async () => {
    while (performance.now() < deadline) {
      await worker.trigger({ function_id: 'bench::echo', payload });
      completed++;
    }
  };
  const start = performance.now();
  const cpu = engineCpuMeter();
  await Promise.all(Array.from({ length: SETTINGS.throughputInFlight }, lane));
  const seconds = (performance.now() - start) / 1000;
  return {
    inFlight: SETTINGS.throughputInFlight,
    completed,
    seconds: round(seconds),
    perSecond: Math.round(completed / seconds),
    engineCpuUsPerOp: cpu.usPer(completed),
  };
}

/**
 * Enqueue-to-handler latency without backlog: one job at a time, the next enqueued once B's
 * handler acked the previous one (a void call back to A). B records `handler start − enqueue
 * start` with both processes' `performance.timeOrigin + now()` clocks.
 */
async function measureEnqueueLatency(worker) {
  const acks = new Map();
  worker.registerFunction('bench::ack', async ({ i }) => {
    acks.get(i)?.();
    return null;
  });
  await worker.trigger({ function_id: 'bench::take_latencies', payload: {} });
  const receipts = [];
  for (let i = 0; i < SETTINGS.enqueueSamples; i++) {
    const acked = new Promise((resolve) => acks.set(i, resolve));
    const start = performance.now();
    await worker.trigger({
      function_id: 'bench::enqueued',
      payload: { t: now(), ack: i },
      action: TriggerAction.Enqueue({ queue: 'bench' }),
    });
    receipts.push(performance.now() - start);
    await acked;
    acks.delete(i);
  }
  const { latencies } = await worker.trigger({ function_id: 'bench::take_latencies', payload: {} });
  return { toHandler: summarize(latencies), receipt: summarize(receipts) };
}

/** `enqueueBurst` jobs enqueued with `enqueueInFlight` outstanding: time until B handled them all. */
async function measureQueueThroughput(worker) {
  const { handled: before } = await worker.trigger({ function_id: 'bench::take_latencies', payload: {} });
  let next = 0;
  const producer = async () => {
    while (next < SETTINGS.enqueueBurst) {
      next++;
      await worker.trigger({
        function_id: 'bench::enqueued',
        payload: {},
        action: TriggerAction.Enqueue({ queue: 'bench-burst' }),
      });
    }
  };
  const start = performance.now();
  const cpu = engineCpuMeter();
  await Promise.all(Array.from({ length: SETTINGS.enqueueInFlight }, producer));
  const enqueuedSeconds = (performance.now() - start) / 1000;
  await until(
    async () => {
      const { handled } = await worker.trigger({ function_id: 'bench::take_latencies', payload: {} });
      return handled - before >= SETTINGS.enqueueBurst;
    },
    60_000,
    5,
  );
  const seconds = (performance.now() - start) / 1000;
  return {
    jobs: SETTINGS.enqueueBurst,
    inFlight: SETTINGS.enqueueInFlight,
    enqueuePerSecond: Math.round(SETTINGS.enqueueBurst / enqueuedSeconds),
    handledPerSecond: Math.round(SETTINGS.enqueueBurst / seconds),
    engineCpuUsPerJob: cpu.usPer(SETTINGS.enqueueBurst),
  };
}

/** `state::set` from A with `stateInFlight` concurrent callers (file-backed SQLite, WAL). */
async function measureStateSet(worker) {
  let next = 0;
  const lane = async () => {
    while (next < SETTINGS.stateOps) {
      const i = next++;
      await worker.trigger({
        function_id: 'state::set',
        payload: { scope: 'bench', key: `k${i % 1000}`, value: { i } },
      });
    }
  };
  const start = performance.now();
  const cpu = engineCpuMeter();
  await Promise.all(Array.from({ length: SETTINGS.stateInFlight }, lane));
  const seconds = (performance.now() - start) / 1000;
  return {
    inFlight: SETTINGS.stateInFlight,
    ops: SETTINGS.stateOps,
    seconds: round(seconds),
    perSecond: Math.round(SETTINGS.stateOps / seconds),
    engineCpuUsPerOp: cpu.usPer(SETTINGS.stateOps),
  };
}

// ---- helpers

/**
 * CPU time (user + system) the engine process spends from now on, per operation. Unlike
 * throughput it hardly depends on what else the shared cores run, so it is what to compare
 * between builds. Linux only (/proc, 100 ticks per second); null elsewhere.
 */
function engineCpuMeter() {
  const read = () => {
    try {
      const fields = readFileSync(`/proc/${children[0].pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return undefined;
    }
  };
  const startMs = read();
  return { usPer: (ops) => (startMs === undefined ? null : round(((read() - startMs) * 1000) / ops)) };
}

function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => round(sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]);
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: round(sorted[sorted.length - 1]) };
}

function round(value) {
  return Math.round(value * 1000) / 1000;
}

function machineFacts() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: round(totalmem() / 2 ** 30),
    freeMemoryGiB: round(freemem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port) {
  await until(
    () =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/otel`);
        ws.once('open', () => {
          ws.close();
          resolve(true);
        });
        ws.once('error', () => resolve(false));
      }),
  );
}

async function until(check, timeoutMs = 15_000, pollMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error('bench: timed out waiting for readiness');
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function printReport(r) {
  const ms = (s) => `p50 ${s.p50} ms, p90 ${s.p90} ms, p99 ${s.p99} ms (n=${s.n})`;
  console.log(
    `machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, ${r.machine.os}, node ${r.machine.node}`,
  );
  console.log(`invoke round trip A→engine→B→engine→A (SDK): ${ms(r.engine)}`);
  console.log(`same path, bare protocol clients (no SDK):   ${ms(r.engineRaw)}`);
  console.log(`raw relay A→relay→B→relay→A:                 ${ms(r.relay)}`);
  console.log(`raw WebSocket echo A→B→A:                    ${ms(r.raw)}`);
  console.log(
    `  vs raw echo: p50 ${r.targets.rttRatioP50}x, p99 ${r.targets.rttRatioP99}x (target ≤ 1.5x: ${r.targets.rttWithin1_5xRaw ? 'met' : 'missed'})`,
  );
  console.log(
    `  vs raw relay: p50 ${r.targets.relayRatioP50}x, p99 ${r.targets.relayRatioP99}x; without SDK vs relay: p50 ${r.targets.engineRawVsRelayP50}x`,
  );
  const builtins = Object.entries(r.builtins)
    .map(([id, s]) => `${id} ${s.p50}/${s.p99}`)
    .join(', ');
  console.log(`builtin round trips, bare client, p50/p99 ms: ${builtins}`);
  console.log(
    `invocation throughput: ${r.throughput.perSecond}/s with ${r.throughput.inFlight} in flight (target ≥ 10000/s: ${r.targets.throughputAtLeast10k ? 'met' : 'missed'}); engine CPU ${r.throughput.engineCpuUsPerOp} µs per call`,
  );
  console.log(`enqueue → handler start: ${ms(r.enqueue.toHandler)}`);
  console.log(`enqueue receipt round trip: ${ms(r.enqueue.receipt)}`);
  console.log(
    `queue burst: ${r.queueThroughput.jobs} jobs, ${r.queueThroughput.inFlight} enqueues in flight: enqueued ${r.queueThroughput.enqueuePerSecond}/s, handled end to end ${r.queueThroughput.handledPerSecond}/s; engine CPU ${r.queueThroughput.engineCpuUsPerJob} µs per job`,
  );
  console.log(
    `state::set throughput: ${r.state.perSecond}/s with ${r.state.inFlight} in flight (${r.state.ops} ops); engine CPU ${r.state.engineCpuUsPerOp} µs per op`,
  );
  if (r.profileDir) console.log(`engine CPU profile written to ${r.profileDir}`);
}
