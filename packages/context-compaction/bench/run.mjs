// Context-compaction benchmark: tokens sent and time per provider call as a session grows from
// 10 to 5,000 entries against a model with a 16k window.
//
//   npm run bench -w @iii-harness/context-compaction   (after building: npm run build, or
//   the tests' global setup, which builds this package, session and models-catalog)
//   node bench/run.mjs [--entries 5000] [--json]
//
// Processes as in production: the dev engine, the session, models-catalog and context-compaction
// workers (each its dist/main.js), and this process, which plays the orchestrator and a provider
// (`provider::bench::complete`, answering at once: what is timed is the harness's own work). Per
// provider call the orchestrator does what the worker's README asks: `compaction::plan`, then
// `compaction::compact_now` when the plan says so, then `session::messages`, the provider call and
// the append of the reply. "Tokens sent" is the o200k count of each request the provider got.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { registerWorker } from 'iii-sdk';

const here = dirname(fileURLToPath(import.meta.url));
const packages = join(here, '..', '..');
const mains = {
  engine: join(packages, 'dev-engine', 'dist', 'main.js'),
  session: join(packages, 'session', 'dist', 'main.js'),
  catalog: join(packages, 'models-catalog', 'dist', 'main.js'),
  compaction: join(here, '..', 'dist', 'main.js'),
};
for (const file of Object.values(mains))
  if (!existsSync(file)) throw new Error(`${file} is missing: build the workspace first (npm run build)`);

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MAX_ENTRIES = arg('--entries', 5_000);
const CHECKPOINTS = [10, 100, 500, 1_000, 2_000, 5_000].filter((n) => n <= MAX_ENTRIES);
const SAMPLE = 20; // provider calls measured at each checkpoint
const WINDOW = 16_384;
const MAX_TOKENS = 2_048;
const MODEL = {
  id: 'bench-16k',
  provider: 'bench',
  context_window: WINDOW,
  max_output_tokens: MAX_TOKENS,
  capabilities: ['tools'],
};
const SYSTEM = 'You are a careful coding agent. Use agent_trigger to call bus functions.';
const SUMMARY = [
  '## Goal',
  'Port the billing module.',
  '## Constraints and preferences',
  '- keep the API',
  '## Progress',
  '### Done',
  '- earlier modules',
  '### In progress',
  '- the current module',
  '## Decisions (with reasons)',
  '- streaming parser (memory)',
  '## Next steps',
  '- continue',
  '## Critical context',
  '- none',
].join('\n');
const WORDS = 'alpha beta gamma delta epsilon zeta theta kappa lambda sigma omega river stone cloud ember'.split(' ');
const prose = (n, seed) => Array.from({ length: n }, (_, i) => WORDS[(i * 7 + seed) % WORDS.length]).join(' ');
const tokensOf = (text) => countTokens(text, { disallowedSpecial: new Set() });

function requestTokens({ system, messages }) {
  let total = 3 + (system ? 4 + tokensOf(system) : 0);
  for (const m of messages) {
    total += 4;
    if (typeof m.content === 'string') total += tokensOf(m.content);
    else
      for (const b of m.content)
        total +=
          b.type === 'text'
            ? tokensOf(b.text)
            : b.type === 'function_call'
              ? tokensOf(JSON.stringify(b.arguments)) + 4
              : 0;
  }
  return total;
}

const children = [];
let client;
try {
  const results = await run();
  console.log(process.argv.includes('--json') ? JSON.stringify(results, null, 2) : report(results));
} finally {
  await client?.shutdown();
  for (const child of children) child.kill('SIGTERM');
}
process.exit(0);

async function run() {
  const port = await freePort();
  const url = `ws://127.0.0.1:${port}`;
  start(mains.engine, ['--port', String(port), '--http-port', '0', '--memory', '--log-level', 'warn']);
  await until(() => portOpen(port));
  for (const main of [mains.session, mains.catalog, mains.compaction])
    start(main, ['--url', url, '--log-level', 'warn']);
  client = registerWorker(url, {
    workerName: 'compaction-bench',
    otel: { enabled: false },
    enableMetricsReporting: false,
  });
  const call = (function_id, payload) => client.trigger({ function_id, payload, timeoutMs: 300_000 });

  // The provider: answers at once; the summariser's requests get a summary, the agent's a reply.
  const sent = [];
  client.registerFunction('provider::bench::complete', async (request) => {
    const summariser = request.system?.includes('working memory');
    const tokens = requestTokens(request);
    if (!summariser) sent.push(tokens);
    const text = summariser ? SUMMARY : `done: ${prose(40, request.messages.length)}`;
    return {
      message: {
        role: 'assistant',
        content: [{ type: 'text', text }],
        provider: 'bench',
        model: request.model,
        usage: { input_tokens: tokens, output_tokens: 60, cache_read_tokens: 0, cache_write_tokens: 0 },
        stop_reason: 'end',
        timestamp: Date.now(),
      },
    };
  });
  await until(async () => {
    const { functions } = await call('engine::functions::list', {});
    const ids = new Set(functions.map((f) => f.function_id));
    return ['session::messages', 'models::get', 'compaction::plan', 'provider::bench::complete'].every((id) =>
      ids.has(id),
    );
  });
  await call('models::reconcile', { provider: 'bench', models: [MODEL] });

  const session_id = `bench-${process.pid}`;
  await call('session::ensure', { session_id });
  const request = { session_id, provider: 'bench', model: MODEL.id, system: SYSTEM, reserve_output_tokens: MAX_TOKENS };
  const append = (message) => call('session::append', { session_id, entry: { type: 'message', message } });
  let entries = 0;
  let calls = 0;
  const compactions = [];
  /** The provider calls measured from the current checkpoint on. */
  let current;

  const providerCall = async (turn) => {
    const t0 = performance.now();
    const plan = await call('compaction::plan', request);
    const t1 = performance.now();
    let compaction;
    if (plan.needs_compaction) {
      compaction = await call('compaction::compact_now', request);
      compactions.push({ ms: performance.now() - t1, ...compaction });
    }
    const { messages } = await call('session::messages', { session_id });
    const { message } = await call('provider::bench::complete', {
      request_id: `bench-${++calls}`,
      model: MODEL.id,
      system: SYSTEM,
      messages: messages.map((m) => m.message),
      max_tokens: MAX_TOKENS,
    });
    await append(message);
    entries++;
    return {
      total_ms: performance.now() - t0,
      plan_ms: t1 - t0,
      tokens: sent[sent.length - 1],
      compacted: !!compaction,
      turn,
    };
  };

  const results = {
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
    window: WINDOW,
    usable: 0,
    checkpoints: [],
  };
  let checkpoint = 0;
  for (let turn = 0; checkpoint < CHECKPOINTS.length; turn++) {
    await append({ role: 'user', content: `turn ${turn}: ${prose(40, turn)}` });
    entries++;
    if (turn % 3 === 0) {
      const id = `call_${turn}`;
      // The assistant's call, as a provider would have returned it.
      await append({
        role: 'assistant',
        content: [
          {
            type: 'function_call',
            id,
            name: 'agent_trigger',
            arguments: { function_id: 'fs::read', payload: { path: `/repo/src/m${turn}.ts` } },
          },
        ],
        provider: 'bench',
        model: MODEL.id,
        usage: { input_tokens: 0, output_tokens: 20, cache_read_tokens: 0, cache_write_tokens: 0 },
        stop_reason: 'function_call',
      });
      const body = Array.from({ length: 30 }, (_, i) => `export const m${turn}_${i} = '${prose(5, turn + i)}';`).join(
        '\n',
      );
      await append({
        role: 'function_result',
        function_call_id: id,
        function_id: 'fs::read',
        content: [{ type: 'text', text: body }],
        is_error: false,
      });
      entries += 2;
    }
    const sample = await providerCall(turn);
    if (!current && checkpoint < CHECKPOINTS.length && entries >= CHECKPOINTS[checkpoint]) current = [];
    if (current) {
      current.push(sample);
      if (current.length === SAMPLE) {
        results.checkpoints.push(summarise(CHECKPOINTS[checkpoint], entries, current, compactions));
        current = undefined;
        checkpoint++;
      }
    }
    if (!results.usable) results.usable = (await call('compaction::plan', request)).usable_tokens;
  }
  results.compactions = {
    count: compactions.length,
    stages: Object.fromEntries(
      ['cap', 'prune', 'summary'].map((s) => [s, compactions.filter((c) => c.stage === s).length]),
    ),
    ms_p50: quantile(
      compactions.map((c) => c.ms),
      0.5,
    ),
    ms_max: Math.max(...compactions.map((c) => c.ms)),
  };
  results.calls = calls;
  results.max_tokens_sent = Math.max(...sent);
  return results;
}

function summarise(target, entries, samples, compactions) {
  return {
    entries: target,
    at_entries: entries,
    tokens_p50: quantile(
      samples.map((s) => s.tokens),
      0.5,
    ),
    tokens_max: Math.max(...samples.map((s) => s.tokens)),
    call_ms_p50: quantile(
      samples.map((s) => s.total_ms),
      0.5,
    ),
    call_ms_p95: quantile(
      samples.map((s) => s.total_ms),
      0.95,
    ),
    plan_ms_p50: quantile(
      samples.map((s) => s.plan_ms),
      0.5,
    ),
    compactions_so_far: compactions.length,
  };
}

function report(r) {
  const ms = (n) => `${n.toFixed(1)} ms`;
  const lines = [
    `context-compaction bench: ${r.calls} provider calls, window ${r.window} (usable ${r.usable}), output ${MAX_TOKENS}; ${r.machine.cpu}, ${r.machine.cores} cores, node ${r.machine.node}`,
    '',
    `| entries (${SAMPLE} calls from) | tokens sent p50 | tokens sent max | per call p50 | per call p95 | plan p50 | compactions so far |`,
    '| ------: | --------------: | --------------: | -----------: | -----------: | -------: | -----------------: |',
    ...r.checkpoints.map(
      (c) =>
        `| ${c.entries.toLocaleString('en')} | ${c.tokens_p50} | ${c.tokens_max} | ${ms(c.call_ms_p50)} | ${ms(c.call_ms_p95)} | ${ms(c.plan_ms_p50)} | ${c.compactions_so_far} |`,
    ),
    '',
    `compactions: ${r.compactions.count} (${Object.entries(r.compactions.stages)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}), p50 ${ms(r.compactions.ms_p50)}, max ${ms(r.compactions.ms_max)}; largest request ${r.max_tokens_sent} tokens`,
  ];
  return lines.join('\n');
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}

function start(main, args) {
  const child = spawn(process.execPath, [main, ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, OTEL_ENABLED: 'false' },
  });
  children.push(child);
  return child;
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = createServer().listen(port, '127.0.0.1');
    socket.once('listening', () => socket.close(() => resolve(false)));
    socket.once('error', () => resolve(true));
  });
}

async function until(check, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {}
    if (Date.now() > deadline) throw new Error('timed out waiting for the stack');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
