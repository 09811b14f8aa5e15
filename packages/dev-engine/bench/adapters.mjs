// The dev engine's storage adapters compared: SQLite (one machine) against Redis + RabbitMQ (the
// real engine's adapters, several engines). Loopback only, bounded (~1 minute).
//
//   npm run bench:adapters -w @iii-harness/dev-engine     (builds dist/ first; needs redis-server
//                                                         and rabbitmq-server: apt-get install)
//   node bench/adapters.mjs [--out results.json]
//
// One process: the engine (dist/, in-process) and an iii-sdk worker calling it over a real
// WebSocket. Per adapter: state::set and state::update (increment) latency one at a time and
// throughput with 100 in flight; a named-queue job (enqueue → handler) latency and throughput.
import { writeFileSync } from 'node:fs';
import { cpus, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerWorker, TriggerAction } from 'iii-sdk';

const here = dirname(fileURLToPath(import.meta.url));
const { parseConfig, startEngine } = await import(join(here, '..', 'dist', 'index.js'));
const { startRabbitMq, startRedisServer } = await import(join(here, '..', 'dist', 'services.js'));

const argv = process.argv.slice(2);
const outFile = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : undefined;
const SAMPLES = 1_000;
const IN_FLIGHT = 100;
const OPS = 10_000;
const JOBS = 3_000;

const [redis, rabbit] = await Promise.all([startRedisServer(), startRabbitMq()]);
const results = {
  machine: {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    platform: `${platform()} ${release()}`,
    node: process.version,
  },
  adapters: {},
};
try {
  results.adapters.sqlite = await measure('SQLite (file, WAL)', undefined);
  results.adapters.redis_rabbitmq = await measure(
    'Redis + RabbitMQ',
    parseConfig(
      `
workers:
  - name: iii-worker-manager
  - name: iii-state
    config: { adapter: { name: redis, config: { redis_url: "${redis.url}" } } }
  - name: iii-stream
    config: { adapter: { name: redis, config: { redis_url: "${redis.url}" } } }
  - name: iii-queue
    config: { adapter: { name: rabbitmq, config: { amqp_url: "${rabbit.url}" } } }
`,
      {},
    ),
  );
} finally {
  await Promise.all([redis.stop(), rabbit.stop()]);
}
print(results);
if (outFile) writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
process.exit(0);

async function measure(label, config) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dataDir = mkdtempSync(join(tmpdir(), 'dev-engine-adapters-'));
  const engine = await startEngine({ port: 0, httpPort: 0, dataDir, logLevel: 'silent', config });
  const worker = registerWorker(engine.url, {
    workerName: 'bench',
    otel: { enabled: false },
    enableMetricsReporting: false,
  });
  const call = (function_id, payload) => worker.trigger({ function_id, payload });
  try {
    await call('queue::define', { queue: 'bench', config: { concurrency: IN_FLIGHT } });
    let done = 0;
    let onDone = () => undefined;
    const sentAt = new Map();
    const jobLatencies = [];
    worker.registerFunction('bench::job', async ({ n }) => {
      const at = sentAt.get(n);
      if (at !== undefined) jobLatencies.push(performance.now() - at);
      done++;
      onDone();
      return {};
    });
    await until(async () => (await call('engine::functions::info', { function_id: 'bench::job' }))?.function_id);

    let i = 0;
    const set = () =>
      call('state::set', { scope: 'bench', key: `k${i++ % 1000}`, value: { i, text: 'x'.repeat(100) } });
    const increment = () =>
      call('state::update', { scope: 'bench', key: `c${i++ % 1000}`, ops: [{ type: 'increment', path: 'n', by: 1 }] });
    const result = {
      label,
      state_set: { latency_ms: await latency(set), ops_per_s: await throughput(set) },
      state_update: { latency_ms: await latency(increment), ops_per_s: await throughput(increment) },
    };

    // Queue: one job at a time (enqueue → handler), then a burst with 100 enqueues in flight.
    let n = 0;
    const enqueue = () => {
      sentAt.set(n, performance.now());
      return worker.trigger({
        function_id: 'bench::job',
        payload: { n: n++ },
        action: TriggerAction.Enqueue({ queue: 'bench' }),
      });
    };
    for (let k = 0; k < 300; k++) {
      const target = done + 1;
      const reached = new Promise((resolve) => {
        onDone = () => done >= target && resolve();
      });
      await enqueue();
      await reached;
    }
    const started = performance.now();
    const before = done;
    await pool(JOBS, IN_FLIGHT, enqueue);
    await until(() => done - before >= JOBS, 60_000);
    result.queue_job = {
      latency_ms: summary(jobLatencies.slice(0, 300)),
      jobs_per_s: Math.round(JOBS / ((performance.now() - started) / 1000)),
    };
    return result;
  } finally {
    await worker.shutdown();
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function latency(op) {
  for (let k = 0; k < 100; k++) await op();
  const samples = [];
  for (let k = 0; k < SAMPLES; k++) {
    const t0 = performance.now();
    await op();
    samples.push(performance.now() - t0);
  }
  return summary(samples);
}

async function throughput(op) {
  const started = performance.now();
  await pool(OPS, IN_FLIGHT, op);
  return Math.round(OPS / ((performance.now() - started) / 1000));
}

async function pool(total, width, op) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < total) {
        next++;
        await op();
      }
    }),
  );
}

function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  const round = (v) => Math.round(v * 1000) / 1000;
  return { p50: round(at(50)), p90: round(at(90)), p99: round(at(99)) };
}

async function until(check, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {}
    if (Date.now() > deadline) throw new Error('bench: timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function print({ machine, adapters }) {
  console.log(`machine: ${machine.cpus} × ${machine.cpu}, ${machine.platform}, node ${machine.node}`);
  for (const r of Object.values(adapters)) {
    console.log(`\n${r.label}`);
    for (const [name, m] of Object.entries(r)) {
      if (name === 'label') continue;
      const rate = m.ops_per_s ?? m.jobs_per_s;
      console.log(
        `  ${name.padEnd(13)} p50 ${m.latency_ms.p50} ms  p90 ${m.latency_ms.p90} ms  p99 ${m.latency_ms.p99} ms  ${rate}/s`,
      );
    }
  }
}
