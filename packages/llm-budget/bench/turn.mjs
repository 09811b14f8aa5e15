// llm-budget benchmark, whole turns: what the budget worker adds to a turn, measured in one run
// with and without it.
//
//   npm run bench:turn -w @iii-harness/llm-budget     (the workspace must be built: npm run build)
//   node bench/turn.mjs [--turns 100] [--json]
//
// Processes as in production: the dev engine (file-backed SQLite in a temp dir), session, harness,
// approval-gate, hook-fanout, turn-orchestrator, models-catalog and, in the budgeted phase,
// llm-budget (their dist/main.js), plus the e2e suite's chaos model as the provider (answers at
// once, reports usage). This process is the client: each turn is one `harness::send` on a fresh
// session, then `turn::get_state` until it has ended; every turn makes one model call.
//
// Phases, sequential turns each, after a warm-up: A1 without llm-budget (never started), B with it
// and a workspace budget covering the call, C with it and no budget covering the call, then A2
// without it again (llm-budget stopped): A1 and A2 bracket B and C so drift shows.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from '@iii-harness/testing';
import { registerWorker } from 'iii-sdk';

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '..', '..');
// By their place in the workspace: a worker package never depends on another.
const main = (pkg) => join(packages, pkg, 'dist', 'main.js');
const mains = {
  engine: main('dev-engine'),
  session: main('session'),
  harness: main('harness'),
  approval: main('approval-gate'),
  hooks: main('hook-fanout'),
  orchestrator: main('turn-orchestrator'),
  catalog: main('models-catalog'),
  budget: main('llm-budget'),
  model: join(packages, 'e2e', 'tests', 'helpers', 'chaos-model-main.mjs'),
};
const argValue = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const TURNS = argValue('--turns', 100);
const WARM_UP = 10;

for (const file of Object.values(mains))
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" at the workspace root first`);

const dir = mkdtempSync(join(tmpdir(), 'llm-budget-turn-bench-'));
const processes = {};
let client;
try {
  const results = await run();
  console.log(process.argv.includes('--json') ? JSON.stringify(results, null, 2) : report(results));
} finally {
  await client?.shutdown();
  for (const child of Object.values(processes)) child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);

async function run() {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  const config = join(dir, 'config.yaml');
  const policy = join(dir, 'iii-permissions.yaml');
  writeFileSync(policy, 'version: 1\nrules: []\n');
  writeFileSync(
    config,
    // The orchestrator learns within 200 ms that llm-budget started or stopped, and a stopped one
    // is taken as gone (not as restarting: A2 runs unbudgeted rather than waiting for it).
    `harness:\n  permissions_path: ${JSON.stringify(policy)}\nturn-orchestrator:\n  functions_ttl_ms: 200\n  budget_absence_grace_ms: 0\n`,
  );
  const env = { ...process.env, OTEL_ENABLED: 'false', LOG_LEVEL: 'warn' };
  const start = (name, args) => {
    processes[name] = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  };
  start('engine', [mains.engine, '--port', String(port), '--http-port', '0', '--data-dir', join(dir, 'data')]);
  await waitForPort(port);
  for (const name of ['session', 'harness', 'approval', 'hooks', 'orchestrator', 'catalog', 'model'])
    start(name, [mains[name], '--url', url, '--config', config]);
  client = registerWorker(url, {
    workerName: 'llm-budget-turn-bench',
    otel: { enabled: false },
    enableMetricsReporting: false,
    invocationTimeoutMs: 60_000,
  });
  const call = (function_id, payload) => client.trigger({ function_id, payload, timeoutMs: 60_000 });
  const registered = (ids) =>
    until(async () => {
      try {
        for (const function_id of ids) await call('engine::functions::info', { function_id });
        return true;
      } catch {
        return false;
      }
    });
  await registered(['session::append', 'harness::send', 'approval::resolve', 'run::start', 'models::get']);
  await registered(['hook-fanout::publish_collect', 'provider::chaos::stream']);
  await call('models::reconcile', {
    provider: 'chaos',
    models: [
      {
        id: 'bench-model',
        provider: 'chaos',
        context_window: 200_000,
        max_output_tokens: 4_096,
        capabilities: ['tools'],
        pricing: { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 },
      },
    ],
  });

  let n = 0;
  /** One turn on a fresh session of `workspace`: client wall time, and the turn's own (start to end, as recorded). */
  const turn = async (workspace) => {
    const session_id = `bench-${++n}`;
    await call('session::ensure', { session_id, metadata: { workspace_id: workspace } });
    const t0 = performance.now();
    const { turn_id } = await call('harness::send', {
      session_id,
      text: `chaos ${session_id}: calls=0`,
      provider: 'chaos',
      model: 'bench-model',
    });
    for (;;) {
      const view = await call('turn::get_state', { session_id });
      if (view.turn_id === turn_id && (view.state === 'stopped' || view.state === 'failed')) {
        if (view.state !== 'stopped')
          throw new Error(`turn ${turn_id} ended ${view.state}: ${JSON.stringify(view.error)}`);
        return { wall: performance.now() - t0, turn: view.updated_at - view.started_at };
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  };
  const phase = async (workspace) => {
    for (let i = 0; i < WARM_UP; i++) await turn(workspace);
    const samples = [];
    for (let i = 0; i < TURNS; i++) samples.push(await turn(workspace));
    return summarize(samples);
  };
  const settle = () => new Promise((r) => setTimeout(r, 1_000));

  const results = {
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, load: loadavg()[0] },
    turns: TURNS,
    phases: {},
  };
  results.phases['A1: without llm-budget'] = await phase('ws-bench');
  start('budget', [mains.budget, '--url', url, '--config', config]);
  await registered(['budget::reserve']);
  await call('budget::create', {
    scope: { kind: 'workspace', id: 'ws-bench' },
    period: 'day',
    cap_micro_usd: 1_000_000_000_000,
  });
  await settle();
  results.phases['B: llm-budget, one workspace budget'] = await phase('ws-bench');
  results.phases['C: llm-budget, no budget covers the call'] = await phase('ws-none');
  processes.budget.kill('SIGTERM');
  await until(async () => {
    try {
      await call('engine::functions::info', { function_id: 'budget::reserve' });
      return false;
    } catch {
      return true;
    }
  });
  await settle();
  results.phases['A2: without llm-budget (stopped)'] = await phase('ws-bench');
  results.machine.load_after = loadavg()[0];
  return results;
}

function summarize(samples) {
  const out = {};
  for (const key of Object.keys(samples[0])) {
    const sorted = samples.map((s) => s[key]).sort((a, b) => a - b);
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    out[key] = {
      p50: round(at(0.5)),
      p95: round(at(0.95)),
      mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    };
  }
  return out;
}

function round(ms) {
  return Math.round(ms * 10) / 10;
}

function report(results) {
  const m = results.machine;
  const lines = [
    `llm-budget turn bench: ${results.turns} turns per phase; ${m.cpu} (${m.cores} cores), Node ${m.node}, load ${m.load.toFixed(1)} → ${m.load_after.toFixed(1)}`,
    '',
    '| phase | turn p50 / p95 / mean (recorded) | client wall p50 / p95 / mean |',
    '| --- | ---: | ---: |',
  ];
  const cell = (s) => `${s.p50} / ${s.p95} / ${s.mean} ms`;
  for (const [name, s] of Object.entries(results.phases)) lines.push(`| ${name} | ${cell(s.turn)} | ${cell(s.wall)} |`);
  return lines.join('\n');
}

async function until(check, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the stack');
    await new Promise((r) => setTimeout(r, 50));
  }
}
