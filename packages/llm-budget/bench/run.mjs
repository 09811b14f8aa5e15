// llm-budget benchmark: the reserve + commit round trip a provider call pays for its budget check.
//
//   npm run bench -w @iii-harness/llm-budget     (the workspace must be built: npm run build)
//   node bench/run.mjs [--rounds 300] [--json]
//
// Processes as in production: the dev engine (file-backed SQLite in a temp dir), models-catalog
// and llm-budget (their dist/main.js), and this process as the client (what the orchestrator is).
// Each scenario runs `rounds` sequential reserve → commit pairs after a warm-up; the baseline is
// one `models::get` (a bus call to a worker that reads engine state once), the floor of any call.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually, freePort, spawnNode, waitForPort } from '@iii-harness/testing';
import { registerWorker } from 'iii-sdk';

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '..', '..');
// By their place in the workspace: a worker package never depends on dev-engine or another worker.
const mains = {
  engine: join(packages, 'dev-engine', 'dist', 'main.js'),
  catalog: join(packages, 'models-catalog', 'dist', 'main.js'),
  budget: process.env.BUDGET_BENCH_WORKER ?? join(packages, 'llm-budget', 'dist', 'main.js'),
};
const argValue = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROUNDS = argValue('--rounds', 300);
const WARM_UP = 50;

for (const file of Object.values(mains))
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" at the workspace root first`);

const dataDir = mkdtempSync(join(tmpdir(), 'llm-budget-bench-'));
const processes = [];
let client;
try {
  const results = await run();
  console.log(process.argv.includes('--json') ? JSON.stringify(results, null, 2) : report(results));
} finally {
  await client?.shutdown();
  await Promise.all(processes.map((child) => child.stop()));
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);

async function run() {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  const start = (name, main, args) => {
    const child = spawnNode(name, main, args);
    processes.push(child);
    return child;
  };
  const engine = start('engine', mains.engine, [
    ...['--port', String(port), '--http-port', '0', '--data-dir', dataDir, '--log-level', 'warn'],
  ]);
  await waitForPort(port, engine);
  start('models-catalog', mains.catalog, ['--url', url]);
  start('llm-budget', mains.budget, ['--url', url]);
  client = registerWorker(url, {
    workerName: 'llm-budget-bench',
    otel: { enabled: false },
    enableMetricsReporting: false,
    invocationTimeoutMs: 60_000,
  });
  const call = (function_id, payload) => client.trigger({ function_id, payload, timeoutMs: 60_000 });
  await eventually(
    async () => {
      await call('engine::functions::info', { function_id: 'budget::reserve' });
      await call('engine::functions::info', { function_id: 'models::get' });
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  await call('models::reconcile', {
    provider: 'bench',
    models: [
      {
        id: 'model',
        provider: 'bench',
        context_window: 200_000,
        max_output_tokens: 64_000,
        capabilities: ['tools'],
        pricing: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
      },
    ],
  });
  const huge = { cap_micro_usd: 1_000_000_000_000 };
  await call('budget::create', { scope: { kind: 'workspace', id: 'one' }, period: 'day', ...huge });
  await call('budget::create', { scope: { kind: 'workspace', id: 'three' }, period: 'day', ...huge });
  await call('budget::create', { scope: { kind: 'agent', id: 'three' }, period: 'total', cap_tokens: 1e15 });
  await call('budget::create', { scope: { kind: 'session', id: 'three' }, period: 'week', ...huge });

  const usage = { input_tokens: 1_500, output_tokens: 400, cache_read_tokens: 500 };
  const pair = (scopes) => async () => {
    const t0 = performance.now();
    const r = await call('budget::reserve', {
      scopes,
      provider: 'bench',
      model: 'model',
      input_tokens: 2_000,
      max_output_tokens: 4_096,
    });
    const t1 = performance.now();
    await call('budget::commit', { reservation_id: r.reservation_id, usage });
    const t2 = performance.now();
    return { reserve: t1 - t0, commit: t2 - t1, total: t2 - t0 };
  };
  const baseline = async () => {
    const t0 = performance.now();
    await call('models::get', { provider: 'bench', model_id: 'model' });
    return { total: performance.now() - t0 };
  };
  const scenarios = {
    'models::get (baseline)': baseline,
    'no budget covers the call': pair({ workspace_id: 'nobody' }),
    'one budget (workspace)': pair({ workspace_id: 'one' }),
    'three budgets (workspace, agent, session)': pair({
      workspace_id: 'three',
      agent_id: 'three',
      session_id: 'three',
    }),
  };
  const results = {
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, load: loadavg()[0] },
    rounds: ROUNDS,
    scenarios: {},
  };
  for (const [name, once] of Object.entries(scenarios)) {
    for (let i = 0; i < WARM_UP; i++) await once();
    const samples = [];
    for (let i = 0; i < ROUNDS; i++) samples.push(await once());
    results.scenarios[name] = summarize(samples);
  }
  // Eight reservers at once on one budget: what contention costs.
  const concurrent = pair({ workspace_id: 'one' });
  const t0 = performance.now();
  const samples = (
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const mine = [];
        for (let i = 0; i < Math.ceil(ROUNDS / 8); i++) mine.push(await concurrent());
        return mine;
      }),
    )
  ).flat();
  results.scenarios['one budget, 8 concurrent callers'] = {
    ...summarize(samples),
    pairs_per_second: Math.round(samples.length / ((performance.now() - t0) / 1000)),
  };
  return results;
}

function summarize(samples) {
  const out = {};
  for (const key of Object.keys(samples[0])) {
    const sorted = samples.map((s) => s[key]).sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    out[key] = { p50: round(at(0.5)), p95: round(at(0.95)) };
  }
  return out;
}

function round(ms) {
  return Math.round(ms * 100) / 100;
}

function report(results) {
  const lines = [
    `llm-budget bench: ${results.rounds} rounds per scenario; ${results.machine.cpu} (${results.machine.cores} cores), Node ${results.machine.node}, load ${results.machine.load.toFixed(1)}`,
    '',
    '| scenario | reserve p50 / p95 | commit p50 / p95 | reserve + commit p50 / p95 |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const [name, s] of Object.entries(results.scenarios)) {
    const cell = (m) => (m ? `${m.p50} / ${m.p95} ms` : '');
    const extra = s.pairs_per_second ? ` (${s.pairs_per_second} pairs/s)` : '';
    lines.push(`| ${name}${extra} | ${cell(s.reserve)} | ${cell(s.commit)} | ${cell(s.total)} |`);
  }
  return lines.join('\n');
}
