// Session benchmarks: append and active-path reads at 10, 1,000 and 10,000 entries.
//
//   npm run bench -w @iii-harness/session     (the workspace must be built: npm run build)
//   node bench/run.mjs [--json]
//   node bench/run.mjs --turn            (only the calls of a turn: a quick comparison)
//   SESSION_BENCH_WORKER=/path/to/main.js node bench/run.mjs   (time another build of the worker)
//
// Three processes, as in production: the dev engine (file-backed SQLite in a temp dir), the
// session worker (dist/main.js), and this process as the client calling session::* over the bus.
// The worker is restarted with IIH_SESSION_PATH_LIST_FACTOR=0 to time the walk with one
// state::get per entry against the default (one state::list for long paths). A 300-entry
// session warms each worker process up first; it is not reported.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerWorker } from 'iii-sdk';

const here = dirname(fileURLToPath(import.meta.url));
// SESSION_BENCH_WORKER: another build of the worker (e.g. a copy of dist/ from before a change) to compare.
const workerMain = process.env.SESSION_BENCH_WORKER ?? join(here, '..', 'dist', 'main.js');
// The engine's entry by its place in the workspace: a worker package never depends on dev-engine.
const engineMain = join(here, '..', '..', 'dev-engine', 'dist', 'main.js');
const SIZES = [10, 1_000, 10_000];
const TURN_ONLY = process.argv.includes('--turn'); // only the calls of a turn (a quick comparison)
const BIG = 'x'.repeat(50_000); // a large function result
const CLOCK_TICKS = 100; // USER_HZ of /proc/<pid>/stat on Linux
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(4); // ~180 characters per message

for (const file of [workerMain, engineMain])
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" at the workspace root first`);

const dataDir = mkdtempSync(join(tmpdir(), 'session-bench-'));
const processes = [];
let client;
try {
  const results = await run();
  console.log(process.argv.includes('--json') ? JSON.stringify(results, null, 2) : report(results));
} finally {
  await client?.shutdown();
  for (const child of processes) child.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);

async function run() {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  processes.push(
    spawn(
      process.execPath,
      [engineMain, '--port', String(port), '--http-port', '0', '--data-dir', dataDir, '--log-level', 'warn'],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    ),
  );
  await until(() => portOpen(port));
  client = registerWorker(url, {
    workerName: 'session-bench',
    otel: { enabled: false },
    enableMetricsReporting: false,
    invocationTimeoutMs: 120_000,
  });
  const call = (function_id, payload) => client.trigger({ function_id, payload, timeoutMs: 120_000 });

  let worker = await startSessionWorker(url, {});
  const { session: warm } = await call('session::create', { display_name: 'warm-up' });
  await appendMany(call, warm.session_id, 300);
  const warmUp = () => timeMessages(call, warm.session_id, 300);
  await warmUp();
  const results = { machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version }, sizes: {} };
  results.turnCalls = await timeTurnCalls(call);
  if (TURN_ONLY) return results;
  const sessions = {};
  for (const size of SIZES) {
    const { session } = await call('session::create', { display_name: `bench ${size}` });
    sessions[size] = session.session_id;
    results.sizes[size] = { append: await appendMany(call, session.session_id, size) };
  }
  for (const size of SIZES) results.sizes[size].messagesDefault = await timeMessages(call, sessions[size], size);

  await stop(worker);
  worker = await startSessionWorker(url, { IIH_SESSION_PATH_LIST_FACTOR: '0' });
  await warmUp();
  for (const size of SIZES) results.sizes[size].messagesGets = await timeMessages(call, sessions[size], size);
  const big = sessions[10_000];
  results.pathInBigSession = {};
  for (const length of [10, 100, 1_000, 10_000])
    results.pathInBigSession[length] = { gets: await timeMessages(call, big, length, `e${length - 1}`) };

  await stop(worker);
  worker = await startSessionWorker(url, {});
  await warmUp();
  for (const length of [10, 100, 1_000, 10_000])
    results.pathInBigSession[length].default = await timeMessages(call, big, length, `e${length - 1}`);
  results.compacted = await timeCompacted(call, big);
  await stop(worker);
  return results;
}

/** Append `count` messages one by one onto the active leaf; latency of the first and last 100. */
async function appendMany(call, session_id, count) {
  const samples = [];
  const cpuBefore = cpuMs();
  for (let i = 0; i < count; i++) {
    const entry = {
      type: 'message',
      message: i % 2 ? assistant(`${i} ${TEXT}`) : { role: 'user', content: `${i} ${TEXT}` },
    };
    const start = performance.now();
    await call('session::append', { session_id, entry_id: `e${i}`, entry });
    samples.push(performance.now() - start);
  }
  return {
    first: stats(samples.slice(0, 100)),
    last: stats(samples.slice(-100)),
    cpu_us: round(((cpuMs() - cpuBefore) * 1000) / count),
  };
}

/**
 * The calls a turn makes, on short sessions as a conversation has them: a new session every 10
 * rounds (seeded with 4 entries), each round ensure, inbox::peek (an inbox never used and one
 * emptied by a drain), messages, append and append_batch of one entry, and every third round an
 * append of a 50 KB function result. Median per function (the first 10 left out), and the CPU
 * time of the three processes per round.
 */
async function timeTurnCalls(call) {
  const ROUNDS = 300;
  const samples = {};
  const time = async (name, function_id, payload) => {
    const start = performance.now();
    await call(function_id, payload);
    samples[name] ??= [];
    samples[name].push(performance.now() - start);
  };
  let session_id;
  let cpu = 0;
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 10 === 0) {
      ({
        session: { session_id },
      } = await call('session::create', { display_name: 'turn' }));
      await appendMany(call, session_id, 4);
      await call('session::inbox::push', { session_id, name: 'followup', item: 'later' });
      await call('session::inbox::drain', { session_id, name: 'followup' });
    }
    const cpuBefore = cpuMs();
    await time('ensure (existing)', 'session::ensure', { session_id });
    await time('inbox::peek (never used)', 'session::inbox::peek', { session_id, name: 'steering' });
    await time('inbox::peek (drained)', 'session::inbox::peek', { session_id, name: 'followup' });
    await time('messages', 'session::messages', { session_id });
    await time('append', 'session::append', {
      session_id,
      entry_id: `r${round}:user`,
      entry: { type: 'message', message: { role: 'user', content: `${round} ${TEXT}` } },
    });
    await time('append_batch (1 entry)', 'session::append_batch', {
      session_id,
      entries: [{ entry_id: `r${round}:result`, entry: { type: 'message', message: assistant(`${round} ${TEXT}`) } }],
    });
    if (round % 3 === 0)
      await time('append (50 KB)', 'session::append', {
        session_id,
        entry_id: `r${round}:big`,
        entry: { type: 'custom', custom_type: 'bench', data: { text: BIG } },
      });
    cpu += cpuMs() - cpuBefore; // the calls of the round only, not the seeding of a new session
  }
  return {
    calls: Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, stats(values.slice(10))])),
    cpu_ms_per_round: round(cpu / ROUNDS),
  };
}

/**
 * `session::messages` several times: the median, and the best round, which machine noise (other
 * processes on the same cores) can only make slower, so per-entry comparisons use it.
 */
async function timeMessages(call, session_id, expected, leaf_id) {
  const rounds = expected >= 10_000 ? 7 : expected >= 1_000 ? 15 : 30;
  const samples = [];
  let cpuBefore = 0;
  for (let i = 0; i < rounds + 1; i++) {
    if (i === 1) cpuBefore = cpuMs();
    const start = performance.now();
    const result = await call('session::messages', { session_id, ...(leaf_id ? { leaf_id } : {}) });
    if (i > 0) samples.push(performance.now() - start); // the first round warms up
    if (result.messages.length !== expected)
      throw new Error(`expected ${expected} messages, got ${result.messages.length}`);
  }
  const median = stats(samples).p50;
  const best = Math.min(...samples);
  const cpu = (cpuMs() - cpuBefore) / rounds;
  return {
    median_ms: round(median),
    best_ms: round(best),
    us_per_entry: round((best * 1000) / expected),
    cpu_us_per_entry: round((cpu * 1000) / expected),
  };
}

/**
 * CPU time used so far by the three processes (engine, session worker, this client), in ms.
 * Unlike wall time, it barely moves when other jobs share the cores, so per-entry growth is
 * measured with it. Linux only (/proc); elsewhere this client's time alone.
 */
function cpuMs() {
  let total = process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000;
  for (const child of processes.filter((p) => p.exitCode === null && !p.killed)) {
    try {
      const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    } catch {
      // not Linux, or the process is gone
    }
  }
  return total;
}

/** A compaction near the end of the 10,000-entry session: reads then cover only the kept tail. */
async function timeCompacted(call, session_id) {
  const { session } = await call('session::get', { session_id });
  const leafDepth = session.entry_count - 1;
  await call('session::append', {
    session_id,
    entry_id: 'compaction',
    entry: { type: 'compaction', summary: TEXT, tokens_before: 100_000, first_kept_entry_id: `e${leafDepth - 19}` },
  });
  for (let i = 0; i < 10; i++)
    await call('session::append', { session_id, entry: { type: 'message', message: { role: 'user', content: TEXT } } });
  return { entries_in_session: session.entry_count + 11, messages: 31, ...(await timeMessages(call, session_id, 31)) };
}

function assistant(text) {
  const usage = { input_tokens: 100, output_tokens: 50, cache_read_tokens: 0, cache_write_tokens: 0 };
  return {
    role: 'assistant',
    content: [{ type: 'text', text }],
    provider: 'bench',
    model: 'bench',
    usage,
    stop_reason: 'end',
  };
}

async function startSessionWorker(url, env) {
  const child = spawn(process.execPath, [workerMain, '--url', url, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, OTEL_ENABLED: 'false', ...env },
  });
  processes.push(child);
  await until(async () => {
    const found = await client.trigger({ function_id: 'engine::functions::list', payload: { prefix: 'session::' } });
    const ids = (found?.functions ?? found ?? []).map((f) => f.function_id ?? f.id ?? f);
    return ids.includes('session::inbox::drain');
  });
  return child;
}

async function stop(child) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  await until(async () => {
    const found = await client.trigger({ function_id: 'engine::functions::list', payload: { prefix: 'session::' } });
    return (found?.functions ?? found ?? []).length === 0;
  });
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    n: sorted.length,
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    p50: round(at(0.5)),
    p95: round(at(0.95)),
  };
}

function round(value) {
  return Math.round(value * 1000) / 1000;
}

function report(r) {
  const lines = [`Machine: ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}`, ''];
  lines.push(
    'Calls of a turn on short sessions (4–24 entries), 290 rounds:',
    '',
    '| call | p50 | p95 |',
    '|---|---:|---:|',
  );
  for (const [name, t] of Object.entries(r.turnCalls.calls)) lines.push(`| ${name} | ${t.p50} ms | ${t.p95} ms |`);
  lines.push(
    '',
    `CPU of engine + worker + client per round (all the calls above): ${r.turnCalls.cpu_ms_per_round} ms.`,
    '',
  );
  if (!r.sizes[10]) return lines.join('\n');
  const cell = (m) => `${m.median_ms} / ${m.best_ms} ms (${m.us_per_entry} µs, CPU ${m.cpu_us_per_entry} µs)`;
  lines.push(
    'Times of `messages` are median / best round; per entry: wall µs from the best round, and CPU µs of engine + worker + client.',
    '',
  );
  lines.push(
    '| entries | append p50 (first 100) | append p50 (last 100) | append p95 (last 100) | append CPU | messages, default | messages, gets only |',
    '|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const [size, s] of Object.entries(r.sizes)) {
    lines.push(
      `| ${size} | ${s.append.first.p50} ms | ${s.append.last.p50} ms | ${s.append.last.p95} ms | ${s.append.cpu_us} µs | ${cell(s.messagesDefault)} | ${cell(s.messagesGets)} |`,
    );
  }
  const ratio = (key, field) => round(r.sizes[10000][key][field] / r.sizes[1000][key][field]);
  lines.push(
    '',
    `Cost per entry read, 10,000 vs 1,000 entries (1.0 = linear): wall ${ratio('messagesDefault', 'us_per_entry')}x default, ${ratio('messagesGets', 'us_per_entry')}x gets only; CPU ${ratio('messagesDefault', 'cpu_us_per_entry')}x default, ${ratio('messagesGets', 'cpu_us_per_entry')}x gets only.`,
  );
  lines.push(
    '',
    'Paths of different lengths inside the 10,000-entry session (`messages {leaf_id}`):',
    '',
    '| path length | default | gets only |',
    '|---:|---:|---:|',
  );
  for (const [length, p] of Object.entries(r.pathInBigSession))
    lines.push(`| ${length} | ${cell(p.default)} | ${cell(p.gets)} |`);
  const c = r.compacted;
  lines.push(
    '',
    `After a compaction keeping 20 entries (+10 appended) in the ${c.entries_in_session}-entry session: messages returns ${c.messages} in ${c.median_ms} ms (median).`,
  );
  return lines.join('\n');
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = createServer()
      .once('error', () => resolve(true))
      .listen(port, '127.0.0.1', () => socket.close(() => resolve(false)));
  });
}

async function until(check, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error('timed out waiting for the bench setup');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
